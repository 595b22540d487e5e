package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"text/tabwriter"

	"github.com/purchase-saga/messaging/config"
)

// Spec describes a service to Main. C is the service's own settings, a
// struct that Main fills from the environment with config.Load (beside
// Config, which every service reads) and checks with its Validate method,
// if it has one.
type Spec[C any] struct {
	// Name is the service's name, its consumer group and its dlt-service.
	Name string
	// DefaultAddr is the HTTP address used when HTTP_ADDR is unset.
	DefaultAddr string
	// Topics are the topics Start makes sure exist.
	Topics Topics
	// Migrate brings the service's database schema up to date.
	Migrate func(context.Context, *sql.DB) error
	// Wire registers consumers and workers on s and returns the REST API.
	Wire func(ctx context.Context, s *Service, cfg C) (http.Handler, error)
	// OpenAPI is the service's OpenAPI document in JSON, served at
	// OpenAPIPath (GET /openapi.json). It documents the API Wire returns
	// and the kit's routes (Routes).
	OpenAPI []byte
}

// Topics names the topics a service needs, all of those of its system
// (so that any service may start first), and which are compacted.
type Topics struct {
	Names     []string
	Compacted func(topic string) bool
}

// Main is the whole of a service's main: it loads the configuration, runs
// the "migrate" subcommand or the service until SIGTERM or SIGINT, and
// exits 0 after a clean shutdown, 1 otherwise.
func Main[C any](spec Spec[C]) {
	setGC()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, spec, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", spec.Name, err)
		stop()
		os.Exit(1)
	}
}

// defaultGCPercent is the services' GOGC unless the environment sets one.
// Their live heap is a few tens of megabytes, and at Go's default of 100
// the collector took a fifth of their CPU under load; at 400 the same
// work costs them about a quarter less CPU for a heap a few times larger.
const defaultGCPercent = 400

// setGC applies defaultGCPercent when GOGC is unset.
func setGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

func run[C any](ctx context.Context, spec Spec[C], args []string, stdout io.Writer) error {
	var cfg struct {
		Config
		HTTPAddr string `env:"HTTP_ADDR"`
	}
	var own C
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		vars := append(config.Variables(&cfg), config.Variables(&own)...)
		for i := range vars {
			if vars[i].Name == "HTTP_ADDR" {
				vars[i].Default = spec.DefaultAddr
			}
		}
		printHelp(stdout, spec.Name, vars)
		return nil
	}
	if err := config.Load(&cfg, nil); err != nil {
		return err
	}
	if err := config.Load(&own, nil); err != nil {
		return err
	}
	if err := errors.Join(cfg.Validate(), validate(&own)); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = spec.DefaultAddr
	}
	level, _ := cfg.Level()
	log := NewLogger(spec.Name, level)
	log.Info("configuration", config.Masked(&cfg)...)
	if fields := config.Masked(&own); len(fields) > 0 {
		log.Info("service configuration", fields...)
	}
	switch {
	case len(args) == 1 && args[0] == "migrate":
		pool, err := OpenDatabase(ctx, cfg.Config, log, spec.Migrate)
		if err != nil {
			return err
		}
		pool.Close()
		log.Info("migrated")
		return nil
	case len(args) > 0:
		return fmt.Errorf("unknown arguments %q (the only subcommand is migrate; --help lists the environment)", args)
	}
	stopTelemetry, err := SetupTelemetry(ctx, spec.Name, cfg.Telemetry, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	stopPprof, err := servePprof(cfg.PprofAddr, log)
	if err != nil {
		return err
	}
	defer stopPprof()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s, err := Start(ctx, spec.Name, cfg.Config, spec.Topics, log, spec.Migrate)
	if err != nil {
		_ = ln.Close()
		return err
	}
	s.OpenAPI = spec.OpenAPI
	app, err := spec.Wire(ctx, s, own)
	if err != nil {
		_ = ln.Close()
		s.Pool.Close()
		return err
	}
	return s.Run(ctx, ln, app)
}

// validate runs cfg's Validate method, if it has one.
func validate(cfg any) error {
	if v, ok := cfg.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

// printHelp prints how to run service name and the environment it reads.
func printHelp(w io.Writer, name string, vars []config.Variable) {
	fmt.Fprintf(w, "usage: %s [migrate]\n\nReads its configuration from the environment:\n\n", name)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT")
	for _, v := range vars {
		def := v.Default
		switch {
		case v.Required:
			def = "(required)"
		case def == "" && v.Secret:
			def = "(secret, none)"
		case def == "":
			def = "(none)"
		}
		fmt.Fprintf(tw, "%s\t%s\n", v.Name, def)
	}
	_ = tw.Flush()
}
