package main

import (
	"net/http"
	"strings"

	"github.com/council/casefile/web"
)

// handler is everything the service answers over HTTP: the API under /v1 and
// the probes and metrics as before, sign-in under /auth, and the pages at /.
func (a *app) handler() (http.Handler, error) {
	api := a.api()
	authn := a.authenticator()
	signIn := a.authHandler(authn)
	pages, err := web.New(web.Config{
		Log:            a.log,
		Auth:           webAuth{authn},
		Persons:        a.db,
		Relationships:  a.db,
		Notes:          a.notesService(),
		Ingest:         a.ingestService(),
		Tickets:        a.db,
		Disclosures:    a.disclosureService(),
		Search:         a.db,
		Chronology:     a.db,
		Access:         a.db,
		DocumentText:   a.db.DocumentText,
		OpenObject:     a.openObject,
		MaxUploadBytes: a.cfg.MaxUploadBytes,
		CouncilName:    a.cfg.CouncilName,
		CouncilColour:  a.cfg.CouncilColour,
		Location:       a.cfg.Timezone,
		Phase:          a.cfg.Phase,
		Reports:        a.reportsService(),
		AccessContact:  a.cfg.AccessContact,
		// Governance pages (issue 14).
		Retention:         a.db,
		Audit:             a.auditService(), // verification checks every anchor too, and is kept for the audit-integrity report
		Users:             a.db,
		Teams:             a.db,
		Tokens:            a.db,
		Exports:           a.db,
		AuditChecks:       a.db.AuditChecks,
		DisposalApprovers: a.cfg.DisposalApprovers,
	})
	if err != nil {
		return nil, err
	}
	signIn.Render = pagesRender(pages)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case p == "/v1" || strings.HasPrefix(p, "/v1/") || p == "/healthz" || p == "/readyz" || p == "/metrics":
			api.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/auth/"):
			signIn.ServeHTTP(w, r)
		default:
			pages.ServeHTTP(w, r)
		}
	}), nil
}
