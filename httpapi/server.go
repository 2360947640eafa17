// Package httpapi is casefile's HTTP API (v1) on gin: a thin edge that
// authenticates, decodes and validates requests, calls the services, and
// writes JSON in the contract's shapes. Business rules live elsewhere.
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
	"github.com/council/casefile/disclosure"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/reports"
)

// Config carries the services the API calls. Nil services leave their
// routes answering 503, so that a partial wiring fails loudly.
type Config struct {
	Log    *slog.Logger
	Tokens casefile.TokenService
	// Auth says who is calling (bearer token or session cookie); nil is
	// bearer tokens only, checked against Tokens.
	Auth *auth.Authenticator
	// AuthHandler serves /auth/* (sign-in, callback, sign-out); nil leaves
	// those routes answering 404.
	AuthHandler http.Handler
	Users       casefile.UserService
	Persons     casefile.PersonService
	Audit       casefile.AuditService
	Exports     casefile.ExportService
	Notes       *notes.Service
	// Disclosures carries out disclosures with redaction.
	Disclosures *disclosure.Service
	// OpenObject opens stored objects (documents, bundles) for download.
	OpenObject OpenObject
	// OpenRange opens bytes start..end (inclusive) of a stored object.
	OpenRange func(ctx context.Context, key string, start, end int64) (io.ReadCloser, int64, error)
	Ingest    *ingest.Service
	Tickets   casefile.TicketService
	Retention casefile.RetentionStore
	// Access decides who may see which person's record (restricted
	// records); Teams stores teams.
	Access casefile.AccessService
	// Relationships records and lists relationships between records.
	Relationships casefile.RelationshipService
	Teams         casefile.TeamService
	// Search searches inside one person's record.
	Search casefile.SearchService
	Policy casefile.RetentionPolicy
	// Ready lists the backing services /readyz checks, by name.
	Ready map[string]casefile.Pinger
	// Registry collects metrics; nil makes a fresh one.
	Registry *prometheus.Registry
	// MaxUploadBytes bounds one uploaded file.
	MaxUploadBytes int64
	// SigningKeys lists the public keys that sign disclosure bundles'
	// manifests, the current one marked (GET /v1/exports/signing-key).
	SigningKeys func(ctx context.Context) ([]casefile.SigningKey, error)
	// Reports builds the compliance reports.
	Reports *reports.Service
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	log     *slog.Logger
	engine  *gin.Engine
	metrics *httpMetrics
	routes  []route
}

// route is one registered route with the permission it needs and its
// restricted-record decision (restrictions.go).
type route struct {
	Method, Path string
	Perm         perm
	Scope        scope
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New builds the API.
func New(cfg Config) *Server {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
		cfg.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if cfg.Auth == nil {
		cfg.Auth = &auth.Authenticator{Tokens: cfg.Tokens}
	}
	s := &Server{cfg: cfg, log: cfg.Log, metrics: newHTTPMetrics(cfg.Registry)}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	e.RemoveExtraSlash = true
	e.Use(s.recoverer, s.observe)
	e.NoRoute(func(c *gin.Context) {
		s.respondError(c, casefile.Errorf(casefile.ENotFound, "route_not_found", "There is no %s %s; see /v1/openapi.json.", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		s.respondError(c, casefile.Errorf(casefile.ENotAllowed, "method_not_allowed", "%s is not allowed on %s.", c.Request.Method, c.Request.URL.Path))
	})
	s.engine = e

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{})))
	e.GET("/v1/openapi.json", s.openapi)

	v1 := e.Group("/v1")
	s.registerPersons(v1)
	s.registerAudit(v1)
	s.registerExports(v1)
	s.registerDisclosures(v1)
	s.registerNotes(v1)
	s.registerSearch(v1)
	s.registerDocuments(v1)
	s.registerTickets(v1)
	s.registerRetention(v1)
	s.registerAccess(v1)
	s.registerIdentity(v1)
	s.registerReports(v1)
	if cfg.AuthHandler != nil {
		h := gin.WrapH(cfg.AuthHandler)
		e.GET("/auth/login", h)
		e.POST("/auth/login", h)
		e.GET("/auth/callback", h)
		e.POST("/auth/logout", h)
	}
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Routes lists the registered API routes with their permissions.
func (s *Server) Routes() []route { return s.routes }

// handle registers an authenticated route needing p.
func (s *Server) handle(g *gin.RouterGroup, method, path string, p perm, h gin.HandlerFunc) {
	full := strings.TrimSuffix(g.BasePath(), "/") + path
	sc := restrictionDecisions[method+" "+full] // "" fails TestEveryRouteHasARestrictionDecision
	s.routes = append(s.routes, route{method, full, p, sc})
	g.Handle(method, path, s.authorize(p), s.restrict(sc), h)
}

// callerKey is where authorize leaves the caller for handlers.
const callerKey = "casefile.caller"

// authorize finds the caller (bearer token or session cookie), requires the
// session's CSRF token on a state-changing request made with the cookie,
// checks the role's permission, and puts the actor into the request context
// for the audit log. Token and session callers meet the same matrix.
func (s *Server) authorize(p perm) gin.HandlerFunc {
	return func(c *gin.Context) {
		caller, err := s.cfg.Auth.Authenticate(c.Request)
		if err != nil {
			if casefile.ErrorKind(err) == casefile.EUnauthorized {
				if c.GetHeader("Authorization") != "" {
					c.Header("WWW-Authenticate", `Bearer realm="casefile", error="invalid_token"`)
				} else {
					c.Header("WWW-Authenticate", `Bearer realm="casefile"`)
				}
			}
			s.respondError(c, err)
			return
		}
		if err := auth.CheckCSRF(c.Request, caller); err != nil {
			s.respondError(c, err)
			return
		}
		actor := caller.Actor
		if !allows(actor.Role, p) {
			s.respondError(c, casefile.Errorf(casefile.EForbidden, "forbidden",
				"The %s role may not do this (it needs %s).", actor.Role, p))
			return
		}
		c.Set(callerKey, caller)
		c.Request = c.Request.WithContext(casefile.WithActor(c.Request.Context(), actor))
		c.Next()
	}
}

// recoverer turns a panic into a logged 500 in the contract's shape.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.log.Error("panic in handler", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", r, "stack", string(debug.Stack()))
			if !c.Writer.Written() {
				s.respondError(c, casefile.Errorf(casefile.EInternal, "internal", "panic"))
			}
		}
	}()
	c.Next()
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casefile_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casefile_http_request_duration_seconds", Help: "HTTP request latency by route, method and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// observe logs each request and records its metrics by route template (never
// the raw path, which holds ids).
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := strconv.Itoa(c.Writer.Status())
	d := time.Since(start)
	s.metrics.requests.WithLabelValues(route, c.Request.Method, status).Inc()
	s.metrics.duration.WithLabelValues(route, c.Request.Method, status).Observe(d.Seconds())
	s.log.Debug("request", "method", c.Request.Method, "route", route, "status", c.Writer.Status(), "duration", d)
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

// readyz checks every backing service at once, within a short deadline.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 4*time.Second)
	defer cancel()
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, len(s.cfg.Ready))
	for name, p := range s.cfg.Ready {
		go func() { ch <- result{name, p.Ping(ctx)} }()
	}
	services := map[string]string{}
	var down []string
	for range s.cfg.Ready {
		r := <-ch
		if r.err != nil {
			services[r.name] = "down"
			down = append(down, r.name)
		} else {
			services[r.name] = "ok"
		}
	}
	if len(down) > 0 {
		c.Header("Retry-After", "5")
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "services": services,
			"error": errorDetail{Code: "service_unavailable", Message: strings.Join(down, ", ") + " unavailable"}})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok", "services": services})
}
