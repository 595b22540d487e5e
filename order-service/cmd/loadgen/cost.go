package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
)

// costConfig says what the cost probe watches during the measured window:
// processes by pid, the PostgreSQL server and its bench databases, the
// broker's topics, and the services whose CPU profiles it fetches.
type costConfig struct {
	procs, serverDB, databases, brokers, pprof, pprofOut string
}

func (c *costConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.procs, "cost-procs", "", "name=pid,... processes whose CPU is charged to the sagas (loadgen counts itself)")
	fs.StringVar(&c.serverDB, "cost-server-db", "", "PostgreSQL server URL (any database) for pg_stat_* deltas; enables the cost probe")
	fs.StringVar(&c.databases, "cost-databases", "", "comma-separated databases whose backends and counters are charged")
	fs.StringVar(&c.brokers, "cost-brokers", "", "comma-separated brokers whose topics' end offsets are counted")
	fs.StringVar(&c.pprof, "pprof", "", "name=host:port,... services whose CPU profile is taken over the window")
	fs.StringVar(&c.pprofOut, "pprof-out", "", "profiles go to this prefix followed by name.pprof")
}

// costResult is what one completed saga cost in the window.
type costResult struct {
	WindowSeconds float64 `json:"window_s"`
	Completed     int64   `json:"completed"`
	// CPUms is CPU milliseconds per completed saga by process: each named
	// process, "postgres" (the whole server: postmaster, every backend
	// and background process, ended ones included), "total" (their sum)
	// and "machine" (all CPU time of the host, from /proc/stat).
	CPUms            map[string]float64 `json:"cpu_ms_per_saga"`
	CoresBusyPercent float64            `json:"cores_busy_percent"`
	// Databases are per-saga counters of each bench database and their
	// "total"; cpu_ms counts the backends connected to it (those that
	// ended within the window are missing: backends_ended).
	Databases     map[string]dbCost `json:"databases"`
	BackendsEnded int               `json:"backends_ended"`
	// WAL is server-wide, like the machine's CPU.
	WALBytes  float64 `json:"wal_bytes_per_saga"`
	WALWrites float64 `json:"wal_writes_per_saga"`
	WALSyncs  float64 `json:"wal_syncs_per_saga"`
	// Statements is null unless pg_stat_statements is loaded.
	Statements    *float64           `json:"statements_per_saga"`
	KafkaMessages float64            `json:"kafka_messages_per_saga"`
	KafkaByTopic  map[string]float64 `json:"kafka_messages_per_saga_by_topic"`
	Profiles      []string           `json:"profiles,omitempty"`
	Notes         []string           `json:"notes,omitempty"`
}

type dbCost struct {
	CPUms        float64 `json:"cpu_ms"`
	Commits      float64 `json:"commits"`
	Rollbacks    float64 `json:"rollbacks"`
	RowsInserted float64 `json:"rows_inserted"`
	RowsUpdated  float64 `json:"rows_updated"`
	RowsDeleted  float64 `json:"rows_deleted"`
	Scans        float64 `json:"scans"` // sequential and index scans of the database's tables
}

// costSnapshot holds cumulative counters at one instant.
type costSnapshot struct {
	at       time.Time
	procs    map[string]float64 // CPU seconds
	server   float64            // CPU seconds of the whole PostgreSQL server
	machine  [2]float64         // busy and total CPU seconds of the host
	backends map[int]backend
	dbs      map[string]dbCost // cumulative counts
	wal      [3]float64        // bytes, writes, syncs
	stmts    float64           // -1: not available
	offsets  map[string]int64  // end offsets summed by topic
}

type backend struct {
	db  string
	cpu float64
}

// costProbe takes a snapshot at the start and at the end of the window
// and the services' CPU profiles in between.
type costProbe struct {
	cfg           costConfig
	server        *pgx.Conn
	dbConns       map[string]*pgx.Conn
	before, after costSnapshot
	notes         []string
	done          chan error
	mu            sync.Mutex // guards profiles, which end concurrently
	profiles      []string
}

// startCost connects and starts watching [from, to); it returns nil when
// no probe was asked for.
func startCost(ctx context.Context, cfg costConfig, from, to time.Time) (*costProbe, error) {
	if cfg.serverDB == "" {
		return nil, nil
	}
	p := &costProbe{cfg: cfg, dbConns: map[string]*pgx.Conn{}, done: make(chan error, 1)}
	var err error
	if p.server, err = pgx.Connect(ctx, cfg.serverDB); err != nil {
		return nil, fmt.Errorf("cost probe: %w", err)
	}
	for _, db := range split(cfg.databases) {
		u, err := withDatabase(cfg.serverDB, db)
		if err == nil {
			p.dbConns[db], err = pgx.Connect(ctx, u)
		}
		if err != nil {
			p.close()
			return nil, fmt.Errorf("cost probe: %s: %w", db, err)
		}
	}
	go func() { p.done <- p.watch(ctx, from, to) }()
	return p, nil
}

func (p *costProbe) watch(ctx context.Context, from, to time.Time) error {
	if err := sleepUntil(ctx, from); err != nil {
		return err
	}
	var err error
	if p.before, err = p.snapshot(ctx); err != nil {
		return err
	}
	var profiles sync.WaitGroup
	defer profiles.Wait()
	for name, addr := range pairs(p.cfg.pprof) {
		profiles.Go(func() { p.profile(ctx, name, addr, to.Sub(p.before.at)) })
	}
	if err := sleepUntil(ctx, to); err != nil {
		return err
	}
	p.after, err = p.snapshot(ctx)
	return err
}

// result waits for the window's end and returns the costs per saga of
// completed sagas.
func (p *costProbe) result(completed int64) (*costResult, error) {
	defer p.close()
	if err := <-p.done; err != nil {
		return nil, err
	}
	b, a := p.before, p.after
	n := float64(max(completed, 1))
	per := func(d float64) float64 { return d / n }
	r := &costResult{WindowSeconds: a.at.Sub(b.at).Seconds(), Completed: completed, CPUms: map[string]float64{},
		Databases: map[string]dbCost{}, KafkaByTopic: map[string]float64{}, Profiles: slices.Sorted(slices.Values(p.profiles)), Notes: p.notes}
	var total float64
	for name, s := range a.procs {
		r.CPUms[name] = per(s-b.procs[name]) * 1000
		total += r.CPUms[name]
	}
	if a.server > 0 {
		r.CPUms["postgres"] = per(a.server-b.server) * 1000
		total += r.CPUms["postgres"]
	}
	r.CPUms["total"] = total
	r.CPUms["machine"] = per(a.machine[0]-b.machine[0]) * 1000
	r.CoresBusyPercent = 100 * (a.machine[0] - b.machine[0]) / (a.machine[1] - b.machine[1])
	var sum dbCost
	for db, c := range a.dbs {
		d := dbCost{Commits: per(c.Commits - b.dbs[db].Commits), Rollbacks: per(c.Rollbacks - b.dbs[db].Rollbacks),
			RowsInserted: per(c.RowsInserted - b.dbs[db].RowsInserted), RowsUpdated: per(c.RowsUpdated - b.dbs[db].RowsUpdated),
			RowsDeleted: per(c.RowsDeleted - b.dbs[db].RowsDeleted), Scans: per(c.Scans - b.dbs[db].Scans)}
		r.Databases[db] = d
		sum = addCost(sum, d)
	}
	for pid, be := range a.backends {
		d := r.Databases[be.db]
		d.CPUms += per(be.cpu-b.backends[pid].cpu) * 1000
		r.Databases[be.db] = d
		sum.CPUms += per(be.cpu-b.backends[pid].cpu) * 1000
	}
	for pid := range b.backends {
		if _, ok := a.backends[pid]; !ok {
			r.BackendsEnded++
		}
	}
	r.Databases["total"] = sum
	r.WALBytes, r.WALWrites, r.WALSyncs = per(a.wal[0]-b.wal[0]), per(a.wal[1]-b.wal[1]), per(a.wal[2]-b.wal[2])
	if a.stmts >= 0 && b.stmts >= 0 {
		s := per(a.stmts - b.stmts)
		r.Statements = &s
	}
	for topic, end := range a.offsets {
		if m := per(float64(end - b.offsets[topic])); m > 0 {
			r.KafkaByTopic[topic] = m
			r.KafkaMessages += m
		}
	}
	return r, nil
}

func addCost(a, b dbCost) dbCost {
	return dbCost{CPUms: a.CPUms + b.CPUms, Commits: a.Commits + b.Commits, Rollbacks: a.Rollbacks + b.Rollbacks,
		RowsInserted: a.RowsInserted + b.RowsInserted, RowsUpdated: a.RowsUpdated + b.RowsUpdated,
		RowsDeleted: a.RowsDeleted + b.RowsDeleted, Scans: a.Scans + b.Scans}
}

func (p *costProbe) close() {
	for _, c := range p.dbConns {
		_ = c.Close(context.Background())
	}
	if p.server != nil {
		_ = p.server.Close(context.Background())
	}
}

func (p *costProbe) snapshot(ctx context.Context) (costSnapshot, error) {
	s := costSnapshot{at: time.Now(), procs: map[string]float64{}, dbs: map[string]dbCost{}, stmts: -1}
	for name, pid := range pairs(p.cfg.procs) {
		st, err := readStat(pid)
		if err != nil {
			return s, fmt.Errorf("cost probe: %s: %w", name, err)
		}
		s.procs[name] = st.cpu
	}
	self, err := readStat("self")
	if err != nil {
		return s, err
	}
	s.procs["loadgen"] = self.cpu
	if s.machine, err = machineCPU(); err != nil {
		return s, err
	}
	if err := p.readPostgres(ctx, &s); err != nil {
		return s, fmt.Errorf("cost probe: %w", err)
	}
	if p.cfg.brokers != "" {
		if s.offsets, err = endOffsets(ctx, split(p.cfg.brokers)); err != nil {
			return s, fmt.Errorf("cost probe: end offsets: %w", err)
		}
	}
	return s, nil
}

func (p *costProbe) readPostgres(ctx context.Context, s *costSnapshot) error {
	dbs := slices.Collect(maps.Keys(p.dbConns))
	rows, err := p.server.Query(ctx, `SELECT datname, xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted
		FROM pg_stat_database WHERE datname = ANY($1)`, dbs)
	if err != nil {
		return err
	}
	for rows.Next() {
		var db string
		var c dbCost
		if err := rows.Scan(&db, &c.Commits, &c.Rollbacks, &c.RowsInserted, &c.RowsUpdated, &c.RowsDeleted); err != nil {
			return err
		}
		s.dbs[db] = c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for db, conn := range p.dbConns {
		c := s.dbs[db]
		if err := conn.QueryRow(ctx, `SELECT coalesce(sum(seq_scan), 0) + coalesce(sum(idx_scan), 0) FROM pg_stat_user_tables`).Scan(&c.Scans); err != nil {
			return fmt.Errorf("%s: %w", db, err)
		}
		s.dbs[db] = c
	}
	if err := p.server.QueryRow(ctx, `SELECT wal_bytes, wal_write, wal_sync FROM pg_stat_wal`).Scan(&s.wal[0], &s.wal[1], &s.wal[2]); err != nil {
		return err
	}
	p.readStatements(ctx, s, dbs)
	return p.readBackends(ctx, s, dbs)
}

// readStatements sums pg_stat_statements' calls in the bench databases
// when the extension is loaded and installed; otherwise it leaves a note.
func (p *costProbe) readStatements(ctx context.Context, s *costSnapshot, dbs []string) {
	err := p.server.QueryRow(ctx, `SELECT coalesce(sum(s.calls), 0)::float8 FROM pg_stat_statements s
		JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = ANY($1)`, dbs).Scan(&s.stmts)
	if err != nil {
		s.stmts = -1
		if len(p.notes) == 0 {
			p.notes = append(p.notes, "statements unknown: pg_stat_statements is not loaded (shared_preload_libraries needs a server restart); scans are sequential plus index scans of the tables")
		}
	}
}

// readBackends reads the CPU of every backend of the bench databases, and
// of the whole server: the postmaster, its children, and the children it
// has reaped (cutime, cstime).
func (p *costProbe) readBackends(ctx context.Context, s *costSnapshot, dbs []string) error {
	s.backends = map[int]backend{}
	rows, err := p.server.Query(ctx, `SELECT pid, datname FROM pg_stat_activity WHERE datname = ANY($1)`, dbs)
	if err != nil {
		return err
	}
	var pids []int
	var names []string
	for rows.Next() {
		var pid int
		var db string
		if err := rows.Scan(&pid, &db); err != nil {
			return err
		}
		pids, names = append(pids, pid), append(names, db)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i, pid := range pids {
		if st, err := readStat(strconv.Itoa(pid)); err == nil { // a backend may have just ended
			s.backends[pid] = backend{db: names[i], cpu: st.cpu}
		}
	}
	var self int
	if err := p.server.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&self); err != nil {
		return err
	}
	st, err := readStat(strconv.Itoa(self))
	if err != nil {
		if len(p.notes) < 2 {
			p.notes = append(p.notes, "PostgreSQL runs elsewhere: its processes' CPU is not counted")
		}
		return nil
	}
	s.server, err = serverCPU(st.ppid)
	return err
}

// serverCPU is the CPU the postmaster and its children, live and reaped, used.
func serverCPU(postmaster int) (float64, error) {
	pm, err := readStat(strconv.Itoa(postmaster))
	if err != nil {
		return 0, err
	}
	total := pm.cpu + pm.children
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if st, err := readStat(e.Name()); err == nil && st.ppid == postmaster {
			total += st.cpu
		}
	}
	return total, nil
}

// clockTicks is USER_HZ, the unit of /proc's CPU times on Linux.
const clockTicks = 100

type procStat struct {
	ppid          int
	cpu, children float64 // seconds: utime+stime, cutime+cstime
}

// readStat reads /proc/<pid>/stat ("self" for this process).
func readStat(pid string) (procStat, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name may hold spaces and parentheses: fields follow the last ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	n := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
	ppid, _ := strconv.Atoi(f[1])
	return procStat{ppid: ppid, cpu: (n(11) + n(12)) / clockTicks, children: (n(13) + n(14)) / clockTicks}, nil
}

// machineCPU returns the host's busy and total CPU seconds.
func machineCPU() ([2]float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return [2]float64{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var busy, total float64
	for i, v := range strings.Fields(line)[1:] {
		x, _ := strconv.ParseFloat(v, 64)
		if i >= 8 { // guest time is counted in user time already
			break
		}
		total += x
		if i != 3 && i != 4 { // idle, iowait
			busy += x
		}
	}
	return [2]float64{busy / clockTicks, total / clockTicks}, nil
}

// endOffsets sums the end offsets of every topic's partitions.
func endOffsets(ctx context.Context, brokers []string) (map[string]int64, error) {
	cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}
	meta, err := cl.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil, err
	}
	req := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			req[t.Name] = append(req[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	resp, err := cl.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: req})
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for topic, parts := range resp.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("%s/%d: %w", topic, p.Partition, p.Error)
			}
			out[topic] += p.LastOffset
		}
	}
	return out, nil
}

// profile saves name's CPU profile over d.
func (p *costProbe) profile(ctx context.Context, name, addr string, d time.Duration) {
	seconds := max(1, int(math.Round(d.Seconds())))
	path := p.cfg.pprofOut + name + ".pprof"
	err := func() error {
		cl := &http.Client{Timeout: time.Duration(seconds)*time.Second + 30*time.Second}
		req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds), nil)
		if err != nil {
			return err
		}
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o644)
	}()
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: CPU profile of %s: %v\n", name, err)
		return
	}
	p.mu.Lock()
	p.profiles = append(p.profiles, path)
	p.mu.Unlock()
}

// print writes the costs as a table.
func (r *costResult) print(w io.Writer) {
	fmt.Fprintf(w, "cost per completed saga: %d sagas in %.1f s, cores %.0f %% busy\n", r.Completed, r.WindowSeconds, r.CoresBusyPercent)
	names := slices.DeleteFunc(slices.Collect(maps.Keys(r.CPUms)), func(n string) bool { return n == "total" || n == "machine" })
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(r.CPUms[b], r.CPUms[a]) })
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.2f", n, r.CPUms[n])
	}
	fmt.Fprintf(w, "  CPU ms per saga: %s; total %.2f (the whole machine %.2f)\n", strings.Join(parts, ", "), r.CPUms["total"], r.CPUms["machine"])
	fmt.Fprintf(w, "  %-16s %8s %8s %9s %8s %8s %8s %8s\n", "database/saga", "cpu ms", "commits", "rollbacks", "inserts", "updates", "deletes", "scans")
	for _, db := range slices.Sorted(maps.Keys(r.Databases)) {
		d := r.Databases[db]
		fmt.Fprintf(w, "  %-16s %8.2f %8.2f %9.2f %8.2f %8.2f %8.2f %8.2f\n", db, d.CPUms, d.Commits, d.Rollbacks, d.RowsInserted, d.RowsUpdated, d.RowsDeleted, d.Scans)
	}
	stmts := "unknown"
	if r.Statements != nil {
		stmts = fmt.Sprintf("%.2f", *r.Statements)
	}
	fmt.Fprintf(w, "  statements %s; WAL %.0f bytes, %.2f writes, %.2f syncs (server-wide); backends ended in the window: %d\n",
		stmts, r.WALBytes, r.WALWrites, r.WALSyncs, r.BackendsEnded)
	fmt.Fprintf(w, "  Kafka messages per saga: %.2f (", r.KafkaMessages)
	for i, t := range slices.Sorted(maps.Keys(r.KafkaByTopic)) {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %.2f", t, r.KafkaByTopic[t])
	}
	fmt.Fprintln(w, ")")
	for _, n := range r.Notes {
		fmt.Fprintln(w, "  note:", n)
	}
	for _, f := range r.Profiles {
		fmt.Fprintln(w, "  CPU profile:", f)
	}
}

// withDatabase returns serverURL naming database db instead.
func withDatabase(serverURL, db string) (string, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", err
	}
	u.Path = "/" + db
	return u.String(), nil
}

func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// pairs parses "name=value,...".
func pairs(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range split(s) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	return out
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
