// Package web is casefile's pages for people: practitioners and the ICT
// service desk, in the GOV.UK Design System's components and patterns.
//
// It is an edge beside httpapi: it calls the same domain services (never the
// JSON API over HTTP), takes the same decisions from the same tables
// (httpapi.Allows for the permission matrix, httpapi.Status for error kinds),
// and holds no rule of its own: a refusal comes from the service that made it
// and is shown in words, with the form kept as typed. Pages are rendered on
// the server from embedded html/template files and work without JavaScript;
// the one script of ours only enhances (drag and drop, progress). Every
// response carries a strict Content-Security-Policy with no inline script or
// style, and every form a CSRF token.
package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/disclosure"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/notes"
	"github.com/council/casefile/reports"
)

// Caller is who is asking, as the sign-in reports them.
type Caller struct {
	Actor casefile.Actor
	// CSRFToken is the session's token that every form sends back.
	CSRFToken string
	// Request is the caller the sign-in returned, handed back to CheckCSRF.
	Request any
}

// Auth is the sign-in the pages rely on (package auth, wired in cmd).
type Auth interface {
	// Authenticate returns the caller of r: EUnauthorized when nobody is
	// signed in, EForbidden (no_role) for a person without a role.
	Authenticate(r *http.Request) (*Caller, error)
	// CheckCSRF refuses an unsafe request without the caller's CSRF token.
	CheckCSRF(r *http.Request, c *Caller) error
	// LoginURL is where to sign in and come back to next (a local path).
	LoginURL(next string) string
	// LogoutURL is where the sign-out form posts.
	LogoutURL() string
}

// Config carries the services the pages call and the council's settings.
type Config struct {
	Log     *slog.Logger
	Auth    Auth
	Persons casefile.PersonService
	Notes   *notes.Service
	Ingest  *ingest.Service
	Tickets casefile.TicketService
	// Disclosures carries out disclosures with redaction; nil: no pages.
	Disclosures *disclosure.Service
	// Search searches inside one person's record; nil finds nothing.
	Search casefile.SearchService
	// Relationships lists a record's relationships: the document page
	// offers to file an email on a sibling's record too. Nil offers nothing.
	Relationships casefile.RelationshipService
	// Chronology reads a record's notes and documents a page at a time.
	Chronology casefile.ChronologyReader
	// Access decides who may see a restricted record; the pages ask it
	// before reading anything of a person's record. Nil checks nothing.
	Access casefile.AccessService
	// DocumentText returns the text kept for a document (an email's plain
	// body), audited as a read; nil shows none.
	DocumentText func(ctx context.Context, id string) (string, error)
	// OpenObject opens a stored object for download.
	OpenObject func(ctx context.Context, key string) (io.ReadCloser, int64, error)
	// MaxUploadBytes bounds one uploaded file.
	MaxUploadBytes int64
	// CouncilName is shown in the header and titles (CASEFILE_COUNCIL_NAME).
	CouncilName string
	// CouncilColour is the header's brand colour, #rrggbb (CASEFILE_COUNCIL_COLOUR).
	CouncilColour string
	// Location is the council's time zone: dates are shown in it.
	Location *time.Location
	// AccessContact is whom a signed-in person without a role is told to
	// ask (CASEFILE_ACCESS_CONTACT); empty, their manager and the ICT
	// service desk.
	AccessContact string
	// Phase, when set ("beta"), shows a phase banner.
	Phase string

	// Governance: the records officers', auditors' and admins' pages. A
	// nil service leaves its pages answering 503.
	Retention casefile.RetentionStore
	Audit     casefile.AuditService
	Users     casefile.UserService
	Teams     casefile.TeamService
	Tokens    casefile.TokenService
	Exports   casefile.ExportService
	// AuditChecks reads the verifications and anchors kept (audit_checks):
	// the last of each, and those of a period.
	AuditChecks func(ctx context.Context, r casefile.ReportRange) (*casefile.AuditChecks, error)
	// DisposalApprovers is how many different records officers approve a
	// disposal list (CASEFILE_DISPOSAL_APPROVERS), for the pages to say so.
	DisposalApprovers int
	// Reports builds the compliance reports; nil leaves their pages
	// answering that the service is unavailable.
	Reports *reports.Service
}

// Server serves the pages.
type Server struct {
	cfg  Config
	log  *slog.Logger
	mux  *http.ServeMux
	tmpl *templates
}

// New builds the pages.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.CouncilName == "" {
		cfg.CouncilName = "Children's Services"
	}
	t, err := loadTemplates(cfg.Location)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Log, mux: http.NewServeMux(), tmpl: t}
	s.routes()
	return s, nil
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in page", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			s.errorPage(w, r, nil, casefile.Errorf(casefile.EInternal, "internal", "panic"))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// csp allows only our own files: no inline script or style anywhere.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
	"object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

func secure(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Permissions the pages ask the matrix about (httpapi's names).
const (
	permPersonsRead    = "persons:read"
	permDocumentsRead  = "documents:read"
	permDocumentsWrite = "documents:write"
	permNotesRead      = "notes:read"
	permNotesWrite     = "notes:write"
	permNotesAmend     = "notes:amend"
	permNotesScan      = "notes:scan"
	permTicketsRead    = "tickets:read"
	permTicketsRaise   = "tickets:raise"
	permTicketsDecide  = "tickets:decide"
)

func (s *Server) routes() {
	m := s.mux
	m.Handle("GET /assets/", http.StripPrefix("/assets/", s.assets()))
	m.HandleFunc("GET /{$}", s.page("", s.home))
	m.HandleFunc("GET /persons", s.page(permPersonsRead, s.findPerson))
	m.HandleFunc("GET /persons/{id}", s.page(permPersonsRead, s.record))
	m.HandleFunc("GET /persons/{id}/search", s.page(permNotesRead, s.searchRecord))
	m.HandleFunc("POST /persons/{id}/documents", s.uploadPage)
	m.HandleFunc("POST /persons/{id}/access", s.page(permPersonsRead, s.breakGlass))
	m.HandleFunc("GET /persons/{id}/notes/new", s.page(permNotesWrite, s.newNote))
	m.HandleFunc("POST /persons/{id}/notes", s.page(permNotesWrite, s.createNote))
	m.HandleFunc("GET /notes/{id}", s.page(permNotesRead, s.notePage))
	m.HandleFunc("GET /notes/{id}/amend", s.page(permNotesAmend, s.amendForm))
	m.HandleFunc("POST /notes/{id}/amend", s.page(permNotesAmend, s.amendNote))
	m.HandleFunc("GET /documents/{id}", s.page(permDocumentsRead, s.documentPage))
	m.HandleFunc("GET /documents/{id}/download", s.page(permDocumentsRead, s.download))
	m.HandleFunc("POST /documents/{id}/links", s.page(permDocumentsWrite, s.linkDocument))
	m.HandleFunc("GET /tickets/new", s.page(permTicketsRaise, s.newTicket))
	m.HandleFunc("POST /tickets", s.page(permTicketsRaise, s.createTicket))
	m.HandleFunc("GET /tickets", s.page(permTicketsRead, s.queue))
	m.HandleFunc("GET /tickets/{id}", s.page(permTicketsRead, s.ticketPage))
	m.HandleFunc("POST /tickets/{id}/approve", s.page(permTicketsDecide, s.approveTicket))
	m.HandleFunc("POST /tickets/{id}/reject", s.page(permTicketsDecide, s.rejectTicket))
	m.HandleFunc("GET /scan", s.page(permNotesScan, s.scanForm))
	m.HandleFunc("POST /scan", s.page(permNotesScan, s.scan))
	s.disclosureRoutes()
	s.governanceRoutes(m)
	s.registerReports()
	m.HandleFunc("POST /scan/third-party", s.page(permNotesScan, s.thirdPartyScan))
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, _ := s.cfg.Auth.Authenticate(r)
		s.errorPage(w, r, c, casefile.Errorf(casefile.ENotFound, "page_not_found", "There is no page at this address."))
	})
}

// handler is a page handler given its signed-in caller.
type handler func(w http.ResponseWriter, r *http.Request, c *Caller)

// page authenticates the caller, checks the role's permission and the CSRF
// token of a form, and puts the actor into the context for the audit log.
func (s *Server) page(p string, h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.signedIn(w, r)
		if !ok {
			return
		}
		if p != "" && !s.may(c, p) {
			s.errorPage(w, r, c, casefile.Errorf(casefile.EForbidden, "forbidden",
				"Your role (%s) does not let you do this. Ask your manager if you need to.", roleName(c.Actor.Role)))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := s.cfg.Auth.CheckCSRF(r, c); err != nil {
				s.errorPage(w, r, c, err)
				return
			}
		}
		r = r.WithContext(casefile.WithActor(r.Context(), c.Actor))
		h(w, r, c)
	}
}

// maxFormBytes bounds a form other than an upload: notes are at most
// 100,000 characters.
const maxFormBytes = 2 << 20

// signedIn returns the caller, or answers: a person who is not signed in is
// sent to sign in and brought back.
func (s *Server) signedIn(w http.ResponseWriter, r *http.Request) (*Caller, bool) {
	c, err := s.cfg.Auth.Authenticate(r)
	if err == nil {
		return c, true
	}
	if casefile.ErrorKind(err) == casefile.EUnauthorized && r.Method == http.MethodGet {
		http.Redirect(w, r, s.cfg.Auth.LoginURL(r.URL.RequestURI()), http.StatusSeeOther)
		return nil, false
	}
	if casefile.ErrorCode(err) == "no_role" {
		s.NoRolePage(w, r, "")
		return nil, false
	}
	s.errorPage(w, r, nil, err)
	return nil, false
}

func (s *Server) may(c *Caller, p string) bool { return c != nil && allows(c.Actor.Role, p) }

func (s *Server) home(w http.ResponseWriter, r *http.Request, c *Caller) {
	switch {
	case s.may(c, permTicketsDecide) && !s.may(c, permNotesWrite):
		http.Redirect(w, r, "/tickets", http.StatusSeeOther)
	case s.may(c, permDisposalDecide) && !s.may(c, permNotesWrite):
		http.Redirect(w, r, "/retention/runs", http.StatusSeeOther)
	case s.may(c, permAuditRead) && !s.may(c, permNotesWrite):
		http.Redirect(w, r, "/audit", http.StatusSeeOther)
	case s.may(c, permPersonsRead):
		http.Redirect(w, r, "/persons", http.StatusSeeOther)
	default:
		s.render(w, r, c, http.StatusOK, "home", &page{Title: "Home"})
	}
}
