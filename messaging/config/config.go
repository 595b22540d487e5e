// Package config fills a typed struct from environment variables, using
// struct tags for names, defaults and secrecy, and prints it with secrets
// masked:
//
//	type Config struct {
//		DatabaseURL string        `env:"DATABASE_URL" secret:"true"`
//		Timeout     time.Duration `env:"SAGA_TIMEOUT" default:"30s"`
//	}
//
// Supported field kinds: string, int, bool, time.Duration, []string
// (comma-separated), and embedded structs of the same.
package config

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

var durationType = reflect.TypeOf(time.Duration(0))

// Load fills the struct cfg points to from lookup (os.LookupEnv when nil).
// It reports every variable that is malformed or required and missing.
func Load(cfg any, lookup func(string) (string, bool)) error {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v := reflect.ValueOf(cfg).Elem()
	t := v.Type()
	var problems []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if err := Load(v.Field(i).Addr().Interface(), lookup); err != nil {
				problems = append(problems, strings.TrimPrefix(err.Error(), "config: "))
			}
			continue
		}
		if name == "" {
			continue
		}
		raw, ok := lookup(name)
		if !ok || raw == "" {
			raw, ok = f.Tag.Lookup("default")
		}
		if !ok {
			if f.Tag.Get("required") == "true" {
				problems = append(problems, name+" is required")
			}
			continue
		}
		if err := set(v.Field(i), raw); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q: %v", name, raw, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("config: %s", strings.Join(problems, "; "))
	}
	return nil
}

func set(field reflect.Value, raw string) error {
	switch {
	case field.Type() == durationType:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
	case field.Kind() == reflect.String:
		field.SetString(raw)
	case field.Kind() == reflect.Int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		field.SetInt(int64(n))
	case field.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case field.Kind() == reflect.Slice && field.Type().Elem().Kind() == reflect.String:
		var items []string
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s != "" {
				items = append(items, s)
			}
		}
		field.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("unsupported field type %s", field.Type())
	}
	return nil
}

// Masked returns name=value pairs of cfg for logging, with secret fields
// replaced by "***" and passwords masked in any value that looks like a
// connection string (see redactDSN).
func Masked(cfg any) []any {
	v := reflect.ValueOf(cfg)
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	t := v.Type()
	var out []any
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := f.Tag.Get("env")
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, Masked(v.Field(i).Interface())...)
			continue
		}
		if name == "" {
			continue
		}
		val := fmt.Sprint(v.Field(i).Interface())
		switch {
		case f.Tag.Get("secret") == "true" && val != "":
			val = "***"
		default:
			val = redactDSN(val)
		}
		out = append(out, name, val)
	}
	return out
}

// Variable is one environment variable a config struct reads.
type Variable struct {
	Name, Default    string
	Required, Secret bool
}

// Variables lists the environment variables cfg (a struct or a pointer to
// one) reads, embedded structs' included, in field order.
func Variables(cfg any) []Variable {
	t := reflect.TypeOf(cfg)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []Variable
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, Variables(reflect.New(f.Type).Interface())...)
			continue
		}
		if name := f.Tag.Get("env"); name != "" {
			out = append(out, Variable{Name: name, Default: f.Tag.Get("default"),
				Required: f.Tag.Get("required") == "true", Secret: f.Tag.Get("secret") == "true"})
		}
	}
	return out
}
