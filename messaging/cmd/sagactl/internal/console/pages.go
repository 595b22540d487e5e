package console

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/purchase-saga/messaging/cmd/sagactl/internal/deadletter"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/lag"
	"github.com/purchase-saga/messaging/cmd/sagactl/internal/timeline"
	"github.com/purchase-saga/messaging/dlt"
)

// statuses are an order's statuses, for the sagas page's filter.
var statuses = []string{"PENDING", "COMPLETED", "FAILED"}

type sagasData struct {
	Q                        url.Values
	Statuses                 []string
	Status, Reason, Customer string
	Since, Until             string
	Orders                   []timeline.Order
	Next                     string // the query of the next page, "" on the last
	First                    bool
}

func (s *Server) sagas(w http.ResponseWriter, r *http.Request) {
	pool := s.Src.DBs[timeline.OrderDB]
	if pool == nil {
		s.fail(w, r, http.StatusServiceUnavailable, "the console was started without the order database (--db order=URL or ORDER_DATABASE_URL)")
		return
	}
	q := r.URL.Query()
	d := sagasData{Q: q, Statuses: statuses, Status: q.Get("status"), Reason: q.Get("reason"), Customer: q.Get("customer"),
		Since: q.Get("since"), Until: q.Get("until"), First: q.Get("after") == ""}
	query := timeline.Query{Status: d.Status, Reason: d.Reason, Customer: d.Customer, After: q.Get("after"), Limit: intParam(q, "limit", 50)}
	var err error
	if query.Since, err = timeParam(q, "since"); err == nil {
		query.Until, err = timeParam(q, "until")
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if d.Status != "" && !slices.Contains(statuses, d.Status) {
		s.fail(w, r, http.StatusBadRequest, "status: want PENDING, COMPLETED or FAILED")
		return
	}
	orders, next, err := timeline.ListOrders(r.Context(), pool, query)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	d.Orders = orders
	if next != "" {
		nq := cloneValues(q)
		nq.Set("after", next)
		d.Next = nq.Encode()
	}
	s.render(w, http.StatusOK, "sagas", page{Title: "Sagas", Active: "sagas", Live: d.First, Data: d})
}

type sagaData struct {
	T         timeline.Timeline
	Lines     []timeline.Line
	Traces    []traceSummary
	Collector collector
}

func (s *Server) saga(w http.ResponseWriter, r *http.Request) {
	tl, ok := s.loadSaga(w, r)
	if !ok {
		return
	}
	s.render(w, http.StatusOK, "saga", page{Title: "Saga " + tl.OrderID, Active: "sagas", Live: true, Data: sagaData{T: tl, Lines: tl.Lines(),
		Traces: s.received(tl), Collector: s.collector(r)}})
}

// loadSaga reads the timeline of the saga the path names; it has answered
// with the error when it returns false.
func (s *Server) loadSaga(w http.ResponseWriter, r *http.Request) (timeline.Timeline, bool) {
	tl, err := timeline.Load(r.Context(), s.Src, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, err.Error())
		return tl, false
	}
	return tl, true
}

// filters are the dead-letter filters of the dlt and replay pages.
type filters struct {
	Topic, Reason, Key, Since string
	Limit                     int
	IncludePoison             bool
}

// Query is the filters as a query string.
func (f filters) Query() string {
	v := url.Values{"topic": {f.Topic}}
	for k, s := range map[string]string{"reason": f.Reason, "key": f.Key, "since": f.Since} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

func (s *Server) readFilters(v url.Values, defaultLimit int) (filters, dlt.Filter, error) {
	f := filters{Topic: v.Get("topic"), Reason: v.Get("reason"), Key: strings.TrimSpace(v.Get("key")), Since: v.Get("since"),
		Limit: intParam(v, "limit", defaultLimit), IncludePoison: v.Get("include-poison") != ""}
	if f.Topic == "" {
		f.Topic = s.DeadLetterTopics[0]
	}
	if !slices.Contains(s.DeadLetterTopics, f.Topic) {
		return f, dlt.Filter{}, badRequest("topic: want one of " + strings.Join(s.DeadLetterTopics, ", "))
	}
	switch f.Reason {
	case "", dlt.ReasonRejected, dlt.ReasonError, dlt.ReasonPoison:
	default:
		return f, dlt.Filter{}, badRequest("reason: want rejected, error or poison")
	}
	since, err := timeParam(v, "since")
	return f, dlt.Filter{Reason: f.Reason, Key: f.Key, Since: since, Limit: f.Limit}, err
}

type dltData struct {
	F       filters
	Topics  []string
	Reasons []string
	Listing deadletter.Listing
}

var reasons = []string{dlt.ReasonRejected, dlt.ReasonError, dlt.ReasonPoison}

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) {
	f, df, err := s.readFilters(r.URL.Query(), 50)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	l, err := deadletter.List(r.Context(), s.Src.Brokers, f.Topic, df, f.Limit, nil)
	if err != nil {
		s.fail(w, r, http.StatusBadGateway, err.Error())
		return
	}
	s.render(w, http.StatusOK, "dlt", page{Title: "Dead letters: " + f.Topic, Active: "dlt", Live: true,
		Data: dltData{F: f, Topics: s.DeadLetterTopics, Reasons: reasons, Listing: l}})
}

type replayData struct {
	F       filters
	Topics  []string
	Reasons []string
	// DryRun is the dry run's output, when one was asked for.
	DryRun *outcome
	// Done is the replay's output, once it ran.
	Done *outcome
	// Writable says an admin token is configured.
	Writable bool
	// Refused says why the replay was refused.
	Refused string
}

// outcome is what a replay (or its dry run) printed.
type outcome struct {
	Summary string
	Lines   []string
	Sent    int
	Err     string
}

// replayMax is how many records one replay from the console sends at
// most, unless its form says otherwise.
const replayMax = 100

func (s *Server) replayForm(w http.ResponseWriter, r *http.Request) {
	f, df, err := s.readFilters(r.URL.Query(), replayMax)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	d := replayData{F: f, Topics: s.DeadLetterTopics, Reasons: reasons, Writable: s.Token != ""}
	if r.URL.Query().Get("dry-run") != "" {
		d.DryRun = s.runReplay(r, f, df, true)
	}
	s.render(w, http.StatusOK, "replay", page{Title: "Replay " + f.Topic, Active: "dlt", Data: d})
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	f, df, err := s.readFilters(r.PostForm, replayMax)
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	d := replayData{F: f, Topics: s.DeadLetterTopics, Reasons: reasons, Writable: s.Token != ""}
	switch {
	case s.Token == "":
		d.Refused = "replays are disabled: the console was started without an admin token (--admin-token or ADMIN_TOKEN)"
		s.render(w, http.StatusForbidden, "replay", page{Title: "Replay refused", Active: "dlt", Data: d})
		return
	case !s.authorized(r):
		d.Refused = "wrong or missing admin token: nothing was replayed"
		s.render(w, http.StatusUnauthorized, "replay", page{Title: "Replay refused", Active: "dlt", Data: d})
		return
	}
	d.Done = s.runReplay(r, f, df, false)
	s.Log.Info("console: replay", "topic", f.Topic, "reason", f.Reason, "key", f.Key, "since", f.Since, "result", d.Done.Summary, "err", d.Done.Err)
	s.render(w, http.StatusOK, "replay", page{Title: "Replayed " + f.Topic, Active: "dlt", Data: d})
}

func (s *Server) runReplay(r *http.Request, f filters, df dlt.Filter, dryRun bool) *outcome {
	var out strings.Builder
	res, err := deadletter.Replay{DryRun: dryRun, IncludePoison: f.IncludePoison, Out: &out, Progress: &out}.Run(r.Context(), s.Src.Brokers, f.Topic, df)
	o := &outcome{Summary: res.String(f.Topic), Sent: res.Sent}
	if err != nil {
		o.Err = err.Error()
	}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l != "" {
			o.Lines = append(o.Lines, l)
		}
	}
	return o
}

type lagData struct {
	R lag.Report
	// Services are the groups by service, in the order of their names.
	Services []serviceLag
}

type serviceLag struct {
	Name   string
	Groups []lag.Group
	Lag    int64
}

func (s *Server) lag(w http.ResponseWriter, r *http.Request) {
	rep := lag.Read(r.Context(), s.Src.DBs, timeline.DatabaseNames, s.Src.Brokers)
	d := lagData{R: rep}
	for _, g := range rep.Groups {
		if n := len(d.Services); n == 0 || d.Services[n-1].Name != g.Service {
			d.Services = append(d.Services, serviceLag{Name: g.Service})
		}
		sl := &d.Services[len(d.Services)-1]
		sl.Groups = append(sl.Groups, g)
		sl.Lag += g.Lag
	}
	s.render(w, http.StatusOK, "lag", page{Title: "Lag", Active: "lag", Live: true, Data: d})
}

type badRequest string

func (e badRequest) Error() string { return string(e) }

func intParam(v url.Values, name string, def int) int {
	n, err := strconv.Atoi(v.Get(name))
	if err != nil || n <= 0 {
		return def
	}
	return min(n, 1000)
}

func timeParam(v url.Values, name string) (time.Time, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" {
		return time.Time{}, nil
	}
	t, err := deadletter.ParseSince(s, time.Now())
	if err != nil {
		return t, badRequest(name + ": " + err.Error())
	}
	return t, nil
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
