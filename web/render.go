package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/council/casefile"
	"github.com/council/casefile/httpapi"
)

//go:embed templates
var templateFS embed.FS

// allows asks the one permission matrix (httpapi's).
func allows(role casefile.Role, p string) bool { return httpapi.Allows(role, p) }

// templates holds one parsed template set per page: the layout with the
// page's own file, and the shared partials.
type templates struct {
	pages map[string]*template.Template
}

func loadTemplates(loc *time.Location) (*templates, error) {
	funcs := template.FuncMap{
		"when":      func(t any) string { return when(t, loc) },
		"date":      dateText,
		"label":     label,
		"noteType":  noteTypeLabel,
		"kindLabel": kindLabel,
		"stateTag":  stateTag,
		"bytes":     byteSize,
		"nhs":       nhsText,
		"query":     func(k, v string) template.URL { return template.URL(url.Values{k: {v}}.Encode()) },
		"deref": func(s *string) string {
			if s == nil {
				return ""
			}
			return *s
		},
		"assetVersion": func() string { return assetVersion },
		"excerpt":      excerpt,
		"short": func(s string) string {
			if r := []rune(s); len(r) > 90 {
				return strings.TrimSpace(string(r[:90])) + " …"
			}
			return s
		},
		"docTitle": documentTitle,
		"add":      func(a, b int) int { return a + b },
		"overdue":  func(d *casefile.Disclosure) bool { return d.Overdue(casefile.DateOf(time.Now().In(loc))) },
		"sentence": func(s string) string {
			s = strings.TrimSpace(s)
			if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
				return s
			}
			return s + "."
		},
		"lines": func(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFS, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, n := range names {
		c, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := c.ParseFS(templateFS, n); err != nil {
			return nil, fmt.Errorf("%s: %w", n, err)
		}
		t.pages[strings.TrimSuffix(path.Base(n), ".html")] = c
	}
	return t, nil
}

// page is what every template is given.
type page struct {
	Title string
	// Nav is the service navigation item this page is under.
	Nav string
	// Errors fill the error summary, each linking to its field.
	Errors []fieldError
	// Banner is a notification banner (success or important).
	Banner *banner
	// Person is whose record the page is about: the identity bar.
	Person *casefile.Person
	Data   any

	// Filled by render.
	Council       string
	Phase         string
	Caller        *Caller
	CSRF          string
	LogoutURL     string
	StylesMissing bool
	NavItems      []navItem
}

type fieldError struct {
	Field   string // the id of the input it is about; "" for the page
	Message string
}

type banner struct {
	Success bool
	Heading string
	Text    string
	Link    string
	LinkTo  string
}

type navItem struct {
	Key, Text, Href string
}

func (p *page) HasErrors() bool { return len(p.Errors) > 0 }

// MayScan reports whether the caller may run the checks over stored notes.
func (p *page) MayScan() bool { return p.Caller != nil && allows(p.Caller.Actor.Role, permNotesScan) }

// ErrorFor returns the error message for a field, if any.
func (p *page) ErrorFor(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

func (s *Server) navFor(c *Caller) []navItem {
	var items []navItem
	if s.may(c, permPersonsRead) {
		items = append(items, navItem{"persons", "Find a person", "/persons"})
	}
	if s.may(c, permTicketsDecide) {
		items = append(items, navItem{"tickets", "Ticket queue", "/tickets"})
	} else if s.may(c, permTicketsRead) {
		items = append(items, navItem{"tickets", "Tickets", "/tickets"})
	}
	if s.may(c, permNotesScan) {
		items = append(items, navItem{"scan", "Note checks", "/scan"})
	}
	if s.may(c, permReportsRead) {
		items = append(items, navItem{"reports", "Reports", "/reports"})
	}
	return append(items, s.governanceNav(c)...)
}

// render writes a page in the layout. It renders into a buffer first, so a
// template failure becomes the error page rather than half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, c *Caller, status int, name string, p *page) {
	t, ok := s.tmpl.pages[name]
	if !ok {
		s.log.Error("no such page template", "name", name)
		name, t = "error", s.tmpl.pages["error"]
		status = http.StatusInternalServerError
		p = &page{Title: "Sorry, there is a problem with the service", Data: errorData{Status: status}}
	}
	p.Council, p.Phase, p.Caller = s.cfg.CouncilName, s.cfg.Phase, c
	p.StylesMissing = !stylesPresent
	p.LogoutURL = s.cfg.Auth.LogoutURL()
	if c != nil {
		p.CSRF = c.CSRFToken
		p.NavItems = s.navFor(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		s.log.Error("page template failed", "name", name, "err", err)
		http.Error(w, "Sorry, there is a problem with the service. Try again later.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes()) //nolint:errcheck
}

type errorData struct {
	Status  int
	Message string
	Code    string
}

// errorPage shows a refusal or failure in words, in the layout, with the
// status the API would give it. Internal errors are logged and never shown.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, c *Caller, err error) {
	status := httpapi.Status(err)
	title := map[int]string{
		http.StatusNotFound:              "Page not found",
		http.StatusForbidden:             "You cannot see this page",
		http.StatusUnauthorized:          "Sign in to continue",
		http.StatusGone:                  "This content has gone",
		http.StatusServiceUnavailable:    "Sorry, the service is unavailable",
		http.StatusInternalServerError:   "Sorry, there is a problem with the service",
		http.StatusConflict:              "This cannot be done now",
		http.StatusRequestEntityTooLarge: "The file is too large",
	}[status]
	if title == "" {
		title = "There is a problem"
	}
	switch casefile.ErrorKind(err) {
	case casefile.EInternal:
		s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	case casefile.EUnavailable:
		s.log.Warn("backing service unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "5")
	}
	s.render(w, r, c, status, "error", &page{Title: title,
		Data: errorData{Status: status, Message: pageMessage(err), Code: casefile.ErrorCode(err)}})
}

// when writes a time as people read it, in the council's time zone:
// "2 March 2026, 10:00".
func when(v any, loc *time.Location) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case *time.Time:
		if x == nil {
			return ""
		}
		t = *x
	default:
		return ""
	}
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2 January 2006, 15:04")
}

// nhsText writes an NHS number as the NHS writes it: 3, 3 and 4 digits.
func nhsText(s string) string {
	if len(s) != 10 {
		return s
	}
	return s[:3] + " " + s[3:6] + " " + s[6:]
}

// dateText writes a date as people read it: "2 March 2026".
func dateText(v any) string {
	switch x := v.(type) {
	case casefile.Date:
		if x.IsZero() {
			return ""
		}
		return x.Time().Format("2 January 2006")
	case *casefile.Date:
		if x == nil || x.IsZero() {
			return ""
		}
		return x.Time().Format("2 January 2006")
	}
	return ""
}

// excerpt is the start of a long text, cut at a word.
func excerpt(s string) string {
	const max = 600
	if len(s) <= max {
		return s
	}
	cut := strings.LastIndexAny(s[:max], " \n")
	if cut < max/2 {
		cut = max
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.TrimSpace(s[:cut]) + " …"
}

// label turns a code into words: child_in_need → Child in need.
func label(code string) string {
	s := strings.ReplaceAll(code, "_", " ")
	switch s {
	case "lado":
		return "LADO"
	case "ict":
		return "ICT"
	}
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func roleName(r casefile.Role) string {
	if r == "" {
		return "none"
	}
	return strings.ToLower(label(string(r)))
}

func noteTypeLabel(code string) string {
	if t, ok := casefile.LookupNoteType(code); ok {
		return t.Label
	}
	return label(code)
}

func kindLabel(kind string) string {
	return map[string]string{casefile.TicketRemoval: "Removal", casefile.TicketReindex: "Re-index", casefile.TicketReopen: "Reopen"}[kind]
}

// stateTag is the GOV.UK tag colour class for a state.
func stateTag(state string) string {
	switch state {
	case casefile.TicketOpen:
		return "govuk-tag--blue"
	case casefile.TicketApproved:
		return "govuk-tag--yellow"
	case casefile.TicketDone, casefile.StatusActive, casefile.DisclosureReady:
		return "govuk-tag--green"
	case casefile.DisclosureFinalising: // awaiting_approval is the runs' orange below
		return "govuk-tag--yellow"
	case casefile.DisclosureDraft:
		return "govuk-tag--blue"
	case casefile.TicketFailed, casefile.StatusRemoved, casefile.StatusDestroyed, casefile.DisclosureWithdrawn:
		return "govuk-tag--red"
	case casefile.RunAwaitingApproval, casefile.ItemDue:
		return "govuk-tag--orange"
	case casefile.ItemReview, casefile.RunRunning, casefile.RunQueued:
		return "govuk-tag--blue"
	case casefile.ItemHeldBack:
		return "govuk-tag--purple"
	}
	return "govuk-tag--grey"
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
