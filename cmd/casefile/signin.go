package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/auth"
)

// authenticator says who calls the API and the pages: bearer tokens and
// browser sessions, with the configured timeouts.
func (a *app) authenticator() *auth.Authenticator {
	return &auth.Authenticator{Tokens: a.db, Sessions: a.db, Users: a.db, Teams: a.db.UserTeams,
		IdleTimeout: a.cfg.SessionIdle, MaxLifetime: a.cfg.SessionMax,
		SecureCookie: a.cfg.PublicURL.Scheme == "https"}
}

// authHandler serves /auth/*: single sign-on when a provider is configured,
// else the form that takes an API token.
func (a *app) authHandler(authn *auth.Authenticator) *auth.Handler {
	h := &auth.Handler{Auth: authn, Contact: a.cfg.AccessContact, Log: a.log}
	if a.cfg.OIDCIssuer != "" {
		h.Provider = auth.NewProvider(auth.ProviderConfig{Issuer: a.cfg.OIDCIssuer, ClientID: a.cfg.OIDCClientID,
			ClientSecret: a.cfg.OIDCClientSecret, RedirectURL: a.cfg.PublicURL.String() + "/auth/callback",
			RolesClaim: a.cfg.OIDCRolesClaim, RoleMap: a.cfg.OIDCRoleMap})
	}
	return h
}

// bootstrapToken creates the first admin token on an empty database, so that
// a new user can call the API straight after `make run`. It expires like any
// other token, and the lines printed say when.
func bootstrapToken(ctx context.Context, a *app, stdout io.Writer) error {
	n, err := a.db.CountTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	ctx = casefile.WithActor(ctx, casefile.SystemActor("bootstrap"))
	t, secret, err := a.db.CreateToken(ctx, "bootstrap-admin", casefile.RoleAdmin, time.Now().Add(casefile.DefaultTokenLifetime))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "casefile: this is a new database, so an admin token was created. It is shown only this once; keep it safe.")
	fmt.Fprintf(stdout, "casefile: it expires on %s (90 days); make a new one before then.\n", t.ExpiresAt.Format("2 January 2006 at 15:04 MST"))
	fmt.Fprintln(stdout, "casefile: make more with: casefile token create --name NAME --role practitioner|manager|ict|records_officer|auditor|admin [--expires 90d]")
	fmt.Fprintln(stdout, secret)
	return nil
}

// parseLifetime reads --expires: days (90d) or a Go duration (12h).
func parseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number of days like 90d", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a lifetime like 90d or 12h", s)
		}
	}
	if d < time.Minute || d > 3650*24*time.Hour {
		return 0, fmt.Errorf("%q must be from a minute to 3650 days", s)
	}
	return d, nil
}

func cmdToken(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError(2)
	}
	switch args[0] {
	case "create":
		return cmdTokenCreate(ctx, cfg, args[1:], stdout, stderr)
	case "list":
		return cmdTokenList(ctx, cfg, stdout, stderr)
	case "revoke":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "casefile token revoke: give the token's id (casefile token list shows them)")
			return exitError(2)
		}
		return cmdTokenRevoke(ctx, cfg, args[1], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return exitError(2)
}

func cmdTokenCreate(ctx context.Context, cfg *config, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("token create", stderr)
	name := fs.String("name", "", "whose token this is, or what it is for")
	role := fs.String("role", "", "practitioner, manager, ict, records_officer, auditor or admin")
	expires := fs.String("expires", "90d", "how long the token lasts: days (90d) or hours (12h)")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	if *name == "" || *role == "" {
		fmt.Fprintln(stderr, "casefile token create: --name and --role are both required")
		return exitError(2)
	}
	if !casefile.ValidRole(casefile.Role(*role)) {
		fmt.Fprintf(stderr, "casefile token create: unknown role %q; use practitioner, manager, ict, records_officer, auditor or admin\n", *role)
		return exitError(2)
	}
	life, err := parseLifetime(*expires)
	if err != nil {
		fmt.Fprintln(stderr, "casefile token create: --expires", err)
		return exitError(2)
	}
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrateDB(ctx, cfg, newLogger(cfg, stderr)); err != nil {
		return err
	}
	ctx = casefile.WithActor(ctx, cliActor())
	t, secret, err := db.CreateToken(ctx, *name, casefile.Role(*role), time.Now().Add(life))
	if err != nil {
		return errors.New(casefile.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "created token %s for %q with role %s, expiring %s; it is shown only this once:\n",
		t.ID, t.Name, t.Role, t.ExpiresAt.Format(time.RFC3339))
	fmt.Fprintln(stdout, secret)
	return nil
}

func cmdTokenList(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	ts, err := db.Tokens(ctx)
	if err != nil {
		return errors.New(casefile.ErrorMessage(err))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tLAST USED\tSTATE")
	now := time.Now()
	day := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04")
	}
	for _, t := range ts {
		state := "active"
		switch {
		case t.RevokedAt != nil:
			state = "revoked " + day(t.RevokedAt)
		case !now.Before(t.ExpiresAt):
			state = "expired"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, day(&t.CreatedAt), day(&t.ExpiresAt), day(t.LastUsedAt), state)
	}
	return tw.Flush()
}

func cmdTokenRevoke(ctx context.Context, cfg *config, id string, stdout, stderr io.Writer) error {
	db, err := openDB(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer db.Close()
	t, err := db.RevokeToken(casefile.WithActor(ctx, cliActor()), id)
	if err != nil {
		return errors.New(casefile.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "revoked token %s (%q, %s) at %s; it no longer works, and its sessions have ended\n",
		t.ID, t.Name, t.Role, t.RevokedAt.UTC().Format(time.RFC3339))
	return nil
}
