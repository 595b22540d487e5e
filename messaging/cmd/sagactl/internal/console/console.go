// Package console is sagactl's ops console: server-rendered pages of the
// sagas, one saga's timeline, the dead letters, their replay and the lag
// of every service. It reads what sagactl's commands read, through the
// same packages (timeline, deadletter, lag), and writes only one thing:
// a replay, by POST with the admin token.
package console

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/purchase-saga/contract/topic"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/traces"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Server serves the console.
type Server struct {
	// Src are the databases and brokers the pages read.
	Src timeline.Sources
	// Token is the admin token a replay needs; empty refuses every replay.
	Token string
	// DeadLetterTopics are the topics of the dead-letter page (default:
	// the saga's .dlt topics).
	DeadLetterTopics []string
	// Refresh is how often live pages reload their content (default 5 s).
	Refresh time.Duration
	// Log hears the errors pages show (default: slog's default).
	Log *slog.Logger
	// Traces keeps the spans the services export to POST /v1/traces
	// (default: a store of DefaultTraceSpans).
	Traces *traces.Store
	// TraceMaxBody bounds an export's body (default traces.DefaultMaxBody).
	TraceMaxBody int64

	pages map[string]*template.Template
}

// Handler returns the console's routes. Writes (POST) from another origin
// are refused (http.CrossOriginProtection), and pages may load only what
// the console serves itself. POST /v1/traces is an OTLP/HTTP collector
// of traces: it needs no token, as it keeps spans in memory only.
func (s *Server) Handler() (http.Handler, error) {
	if err := s.init(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.RedirectHandler("/sagas", http.StatusSeeOther))
	mux.HandleFunc("GET /sagas", s.sagas)
	mux.HandleFunc("GET /sagas/{id}", s.saga)
	mux.HandleFunc("GET /sagas/{id}/trace", s.trace)
	mux.Handle("POST /v1/traces", traces.Receiver{Store: s.Traces, MaxBody: s.TraceMaxBody})
	mux.HandleFunc("GET /dlt", s.deadLetters)
	mux.HandleFunc("GET /replay", s.replayForm)
	mux.HandleFunc("POST /replay", s.replay)
	mux.HandleFunc("GET /lag", s.lag)
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) }
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /readyz", ok) // serving is all it needs: every page says what it cannot read
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	return secure(http.NewCrossOriginProtection().Handler(mux)), nil
}

func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

var funcs = template.FuncMap{
	"lower":  strings.ToLower,
	"amount": timeline.Amount,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(timeline.TimeFormat)
	},
	"age":  func(d time.Duration) string { return d.Round(time.Millisecond).String() },
	"ms":   traces.Ms,
	"join": strings.Join,
}

func (s *Server) init() error {
	if len(s.DeadLetterTopics) == 0 {
		s.DeadLetterTopics = []string{topic.StockDLT, topic.PaymentDLT, topic.OrderDLT}
	}
	if s.Refresh <= 0 {
		s.Refresh = 5 * time.Second
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.Traces == nil {
		s.Traces = traces.NewStore(DefaultTraceSpans)
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*template.Template{}
	for _, name := range []string{"sagas", "saga", "trace", "dlt", "replay", "lag", "error"} {
		t, err := layout.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFiles, "templates/"+name+".html")
		}
		if err != nil {
			return err
		}
		s.pages[name] = t
	}
	return nil
}

// page is what the layout shows around a page's content.
type page struct {
	Title  string
	Active string // the navigation entry: sagas, dlt, lag
	// Live pages reload their content every Refresh seconds.
	Live    bool
	Refresh int
	Now     time.Time
	Data    any
}

// render writes page name with status.
func (s *Server) render(w http.ResponseWriter, status int, name string, p page) {
	p.Refresh = int(s.Refresh / time.Second)
	p.Now = time.Now()
	var b bytes.Buffer
	if err := s.pages[name].Execute(&b, p); err != nil {
		s.Log.Error("console: render", "page", name, "err", err)
		http.Error(w, "console: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// fail shows what went wrong, on the page of the request.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if status >= 500 {
		s.Log.Error("console", "path", r.URL.Path, "err", msg)
	}
	s.render(w, status, "error", page{Title: http.StatusText(status), Data: msg})
}

// authorized reports whether r carries the admin token, as the form's
// token field or as "Authorization: Bearer"; compared in constant time.
func (s *Server) authorized(r *http.Request) bool {
	got := r.PostFormValue("token")
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = bearer
	}
	return s.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.Token)) == 1
}
