package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/council/casefile"
	"github.com/council/casefile/extract"
	"github.com/council/casefile/httpapi"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/reports"
	"github.com/council/casefile/retention"
	"github.com/council/casefile/storage/postgres"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/workers"
)

// app holds the wired services of one process.
type app struct {
	cfg *config
	log *slog.Logger
	db  *postgres.DB
	s3  *s3.Store
	// anchorS3 is the bucket as the anchor credential sees it (s3 when
	// there is no separate one).
	anchorS3 *s3.Store
	// records is the bucket as the records credential sees it: destruction,
	// legal holds and retention changes, the workers' work (s3 when there is
	// no separate credential).
	records *s3.Store
	workers *workers.Workers
	policy  retention.Policy

	ingestOnce sync.Once
	ingest     *ingest.Service
	notesOnce  sync.Once
	notes      *notes.Service
	// extractor is the process's one text extractor.
	extractOnce sync.Once
	extractor   *extract.Extractor
	// schedule is the retention schedule in force (its sha256 guards changes).
	schedule *retention.Schedule
}

// guardSchedule refuses to start with a changed schedule that would make
// more than 1% of the records due at once, unless
// CASEFILE_RETENTION_SCHEDULE_CONFIRM names its sha256.
func (a *app) guardSchedule(ctx context.Context) error {
	err := retention.GuardScheduleChange(ctx, a.db, a.schedule, a.cfg.ScheduleConfirm, casefile.Today())
	var refused *retention.ScheduleRefused
	if errors.As(err, &refused) {
		return &configError{"CASEFILE_RETENTION_SCHEDULE", err.Error()}
	}
	return err
}

// loadSchedule returns the retention schedule in force: the file named by
// CASEFILE_RETENTION_SCHEDULE, or the default.
func loadSchedule(cfg *config) (*retention.Schedule, error) {
	if cfg.RetentionSchedule == "" {
		return retention.DefaultSchedule(), nil
	}
	s, err := retention.LoadSchedule(cfg.RetentionSchedule)
	if err != nil {
		return nil, &configError{"CASEFILE_RETENTION_SCHEDULE", err.Error()}
	}
	return s, nil
}

func (a *app) retentionRunner() *retention.Runner {
	return &retention.Runner{Store: a.db, Blobs: a.records, Log: a.log, FinalAttempt: workers.FinalAttempt}
}

func (a *app) retentionSweeper() *retention.Sweeper {
	return &retention.Sweeper{Store: a.db, Blobs: a.records, Log: a.log}
}

func newLogger(cfg *config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
}

// openDB connects to PostgreSQL (creating the database if missing).
func openDB(ctx context.Context, cfg *config, log *slog.Logger) (*postgres.DB, error) {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	db, err := postgres.Open(cctx, cfg.DatabaseURL, log)
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_DATABASE_URL: %w", err)
	}
	return db, nil
}

// openApp connects every backing service and wires the services.
func openApp(ctx context.Context, cfg *config, log *slog.Logger) (*app, error) {
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	store, err := s3.Open(cctx, cfg.s3Config(), log)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("CASEFILE_S3_ENDPOINT (%s): %w", cfg.S3Endpoint, err)
	}
	anchors, err := openAnchorStore(cctx, cfg, store)
	if err != nil {
		db.Close()
		return nil, err
	}
	records, err := openRecordsStore(cctx, cfg, store)
	if err != nil {
		db.Close()
		return nil, err
	}
	w := workers.New(workers.Config{
		Redis:       cfg.redisOpt(),
		Queue:       cfg.WorkerQueue,
		Concurrency: cfg.WorkerConcurrency,
		Periodic:    periodic(cfg),
		Log:         log,
	}, db)
	schedule, err := loadSchedule(cfg)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.SetRetentionPolicy(retention.Policy{S: schedule})
	db.SetResidualCopies(cfg.BackupNote)
	db.SetDisposal(cfg.disposal())
	// Spool files are unlinked as soon as they are made; whatever is in the
	// directory was left by something else (an older version) and goes.
	if n, err := ingest.PrepareSpool(cfg.SpoolDir); err != nil {
		db.Close()
		return nil, &configError{"CASEFILE_SPOOL_DIR", err.Error()}
	} else if n > 0 {
		log.Warn("removed files left in the spool directory", "dir", cfg.SpoolDir, "files", n)
	}
	if n, err := extract.CleanTemp("", 24*time.Hour); err == nil && n > 0 {
		log.Warn("removed what text extractions left in the temp directory", "entries", n)
	}
	db.SetAdoptionTeam(cfg.AdoptionTeam)
	a := &app{cfg: cfg, log: log, db: db, s3: store, anchorS3: anchors, records: records, workers: w, policy: retention.Policy{S: schedule}, schedule: schedule}
	return a, nil
}

func periodic(cfg *config) map[string]string {
	p := map[string]string{}
	if cfg.RetentionCron != "off" {
		p[casefile.TaskRetentionSweep] = cfg.RetentionCron
	}
	if cfg.ReconcileCron != "off" {
		p[casefile.TaskStorageReconcile] = cfg.ReconcileCron
	}
	return p
}

func (a *app) close() {
	a.workers.Close()
	a.db.Close()
}

// api builds the HTTP API on the app's services.
func (a *app) api() *httpapi.Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "casefile_postgres_round_trips_total",
			Help: "Requests this process sent PostgreSQL and waited on (statements, batches, BEGIN and COMMIT)."},
			func() float64 { return float64(a.db.RoundTrips()) }))
	authn := a.authenticator()
	return httpapi.New(httpapi.Config{
		Log:            a.log,
		Tokens:         a.db,
		Auth:           authn,
		AuthHandler:    a.authHandler(authn),
		Users:          a.db,
		Persons:        a.db,
		Audit:          a.auditService(),
		Exports:        a.db,
		Notes:          a.notesService(),
		Disclosures:    a.disclosureService(),
		OpenObject:     a.openObject,
		OpenRange:      a.openRange,
		Ingest:         a.ingestService(),
		Tickets:        a.db,
		Retention:      a.db,
		Access:         a.db,
		Relationships:  a.db,
		Teams:          a.db,
		Search:         a.db,
		Policy:         a.policy,
		Ready:          map[string]casefile.Pinger{"postgres": a.db, "redis": a.workers, "s3": a.s3},
		Registry:       reg,
		MaxUploadBytes: a.cfg.MaxUploadBytes,
		SigningKeys:    a.signingKeys,
		Reports:        a.reportsService(),
	})
}

// auditService is the audit log as the API and the pages read it: its
// verification checks every anchor in the bucket too, and is kept for the
// audit-integrity report. (The pages' verification must use this one, not
// a.db alone.)
func (a *app) auditService() casefile.AuditService {
	return anchoredAudit{a.db, a.anchorer(), a.db}
}

// reportsService builds the compliance reports (package reports).
func (a *app) reportsService() *reports.Service {
	return &reports.Service{Store: a.db, Audit: a.db, LateNoteDays: a.cfg.LateNoteDays, Disclosures: a.db, Zone: a.cfg.Timezone}
}

// notesService is the one notes service of the process: the API and the
// pages share its third-party index.
func (a *app) notesService() *notes.Service {
	a.notesOnce.Do(func() {
		a.notes = &notes.Service{Store: a.db, Audit: a.db, RaiseTicket: removalTicketRaiser(a.db), Refusals: a.db,
			ThirdParty: &notes.ThirdParty{Store: a.db, Access: a.db}}
	})
	return a.notes
}

// noRetention stores an object with no Object Lock retention (copies such as
// export bundles, which are not records themselves).
var noRetention time.Time

type mode int

const (
	modeServe mode = iota
	modeWorker
	modeRun
)

func cmdMigrate(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	applied, err := migrateDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, m := range applied {
		fmt.Fprintln(stdout, "applied", m)
	}
	return nil
}

// cmdServe runs the API, the workers, or both, until ctx ends.
func cmdServe(ctx context.Context, cfg *config, stdout, stderr io.Writer, m mode) error {
	log := newLogger(cfg, stderr)
	if m == modeRun {
		if err := cmdMigrate(ctx, cfg, io.Discard, stderr); err != nil {
			return err
		}
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if risk, err := a.db.RoleRisk(ctx); err == nil && risk != "" {
		log.Warn("CASEFILE_DATABASE_URL: " + risk + "; run the service as a role that owns nothing, and migrations as the owner " +
			"(CASEFILE_MIGRATE_DATABASE_URL; docs/setup.md)")
	}
	if err := a.guardSchedule(ctx); err != nil {
		return err
	}
	if m == modeRun {
		if err := bootstrapToken(ctx, a, stdout); err != nil {
			return err
		}
		// run holds the owner's URL (it migrates): it does the purges its
		// own role may not, as `casefile maintain` does in production.
		go runMaintenance(ctx, cfg, log)
	}
	if cfg.PprofAddr != "" {
		// Go's profiler, on its own listener (never the API's), for whoever
		// runs the service to see where its time goes.
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		psrv := &http.Server{Addr: cfg.PprofAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("profiler listening", "addr", cfg.PprofAddr)
		go func() {
			if err := psrv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Warn("profiler stopped", "err", err)
			}
		}()
		defer psrv.Close()
	}
	errc := make(chan error, 2)
	running := 0
	if m == modeServe || m == modeRun {
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("CASEFILE_HTTP_ADDR: listen on %s: %w", cfg.HTTPAddr, err)
		}
		h, err := a.handler()
		if err != nil {
			return err
		}
		// Headers must arrive within 10 s, and a body must keep arriving
		// (BodyIdleTimeout), so that slow or stalled clients cannot hold
		// every upload slot; a slow but live upload of any size goes through.
		handler := httpapi.BodyIdleTimeout(h, time.Duration(cfg.BodyIdleSeconds)*time.Second)
		srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
		log.Info("casefile API listening", "addr", ln.Addr().String())
		running++
		shutDown := make(chan struct{})
		go func() {
			err := srv.Serve(ln)
			if errors.Is(err, http.ErrServerClosed) {
				// Serve returns as soon as shutdown starts: wait for the
				// requests in flight to finish before the stores close.
				<-shutDown
				err = nil
			}
			errc <- err
		}()
		go func() {
			defer close(shutDown)
			<-ctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv.Shutdown(sctx) //nolint:errcheck // in-flight requests finish or time out
		}()
	}
	if m == modeWorker || m == modeRun {
		a.registerTasks()
		running++
		go func() { errc <- a.workers.Run(ctx) }()
		log.Info("casefile workers running", "queue", cfg.WorkerQueue, "concurrency", cfg.WorkerConcurrency)
	}
	var first error
	for i := 0; i < running; i++ {
		if err := <-errc; err != nil && first == nil {
			first = err
			log.Error("stopping", "err", err)
		}
	}
	return first
}

var (
	_ retention.RunStore   = (*postgres.DB)(nil)
	_ retention.SweepStore = (*postgres.DB)(nil)
	_ retention.Blobs      = (*s3.Store)(nil)
)
