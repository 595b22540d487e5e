package service

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/purchase-saga/messaging/config"
)

// Spec describes a service to Main.
type Spec struct {
	// Name is the service's name, its consumer group and its dlt-service.
	Name string
	// DefaultAddr is the HTTP address used when HTTP_ADDR is unset.
	DefaultAddr string
	// Extra, when set, points to a struct of service-specific settings
	// that Main loads from the environment too.
	Extra any
	// Migrate brings the service's database schema up to date.
	Migrate func(context.Context, *sql.DB) error
	// Wire registers consumers and workers on s and returns the REST API.
	Wire func(ctx context.Context, s *Service) (http.Handler, error)
}

// Main is the whole of a service's main: it loads the configuration, runs
// the "migrate" subcommand or the service until SIGTERM or SIGINT, and
// exits 0 after a clean shutdown, 1 otherwise.
func Main(spec Spec) {
	setGC()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, spec, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", spec.Name, err)
		stop()
		os.Exit(1)
	}
}

// defaultGCPercent is the services' GOGC unless the environment sets one.
// Their live heap is a few tens of megabytes, and at Go's default of 100
// the collector took a fifth of their CPU under load; at 400 a saga costs
// them about a quarter less CPU for a heap a few times larger.
const defaultGCPercent = 400

// setGC applies defaultGCPercent when GOGC is unset.
func setGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

func run(ctx context.Context, spec Spec, args []string) error {
	var cfg struct {
		Config
		HTTPAddr string `env:"HTTP_ADDR"`
	}
	if err := config.Load(&cfg, nil); err != nil {
		return err
	}
	if spec.Extra != nil {
		if err := config.Load(spec.Extra, nil); err != nil {
			return err
		}
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = spec.DefaultAddr
	}
	level, _ := cfg.Level()
	log := NewLogger(spec.Name, level)
	log.Info("configuration", config.Masked(&cfg)...)
	if spec.Extra != nil {
		log.Info("service configuration", config.Masked(spec.Extra)...)
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
		return fmt.Errorf("unknown arguments %q (the only subcommand is migrate)", args)
	}
	stopPprof, err := servePprof(cfg.PprofAddr, log)
	if err != nil {
		return err
	}
	defer stopPprof()
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s, err := Start(ctx, spec.Name, cfg.Config, log, spec.Migrate)
	if err != nil {
		_ = ln.Close()
		return err
	}
	app, err := spec.Wire(ctx, s)
	if err != nil {
		_ = ln.Close()
		s.Pool.Close()
		return err
	}
	return s.Run(ctx, ln, app)
}
