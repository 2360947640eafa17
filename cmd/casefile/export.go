package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/council/casefile"
	"github.com/council/casefile/disclosure"
	"github.com/council/casefile/export"
	"github.com/council/casefile/storage/s3"
	"github.com/council/casefile/workers"
)

// exportService wires the export builder to the stores.
func (a *app) exportService() *export.Service {
	return &export.Service{
		Exports:      a.db,
		KeepFor:      time.Duration(a.cfg.ExportKeepDays) * 24 * time.Hour,
		FinalAttempt: workers.FinalAttempt,
		Destroy:      a.records.Destroy,
		Builder: &export.Builder{Source: a.db, FontDir: a.cfg.PDFFontDir, SigningKey: a.signingKey,
			Open: func(ctx context.Context, key string) (io.ReadCloser, error) {
				rc, _, err := a.s3.Get(ctx, key, nil)
				return rc, err
			}},
		Put: func(ctx context.Context, key string, r io.Reader) error {
			_, err := a.s3.Put(ctx, key, r, -1, "application/zip", noRetention)
			return err
		},
	}
}

// disclosureService wires disclosures to the stores and the signing key.
func (a *app) disclosureService() *disclosure.Service {
	return &disclosure.Service{
		Store: a.db, Reasons: a.cfg.DisclosureReasons, Approvers: a.cfg.DisclosureApprovers, FontDir: a.cfg.PDFFontDir,
		SigningKey: a.signingKey, AuditHead: a.db.AuditHead, FinalAttempt: workers.FinalAttempt,
		Open: func(ctx context.Context, key string) (io.ReadCloser, error) {
			rc, _, err := a.s3.Get(ctx, key, nil)
			return rc, err
		},
		Put: func(ctx context.Context, key string, r io.Reader) error {
			_, err := a.s3.Put(ctx, key, r, -1, "application/zip", noRetention)
			return err
		},
	}
}

// fileKeys caches keys read from CASEFILE_EXPORT_SIGNING_KEY by path; each
// is recorded in the database once per process.
var fileKeys sync.Map // path → ed25519.PrivateKey

// signingKey is the key that signs bundles' manifests: the one in the file
// CASEFILE_EXPORT_SIGNING_KEY names, or else the one casefile generated and
// keeps in the database.
func (a *app) signingKey(ctx context.Context) (ed25519.PrivateKey, error) {
	path := a.cfg.ExportSigningKeyFile
	if path == "" {
		return a.db.GeneratedSigningKey(ctx)
	}
	if k, ok := fileKeys.Load(path); ok {
		return k.(ed25519.PrivateKey), nil
	}
	k, err := export.ReadPrivateKey(path)
	if err != nil {
		return nil, &configError{"CASEFILE_EXPORT_SIGNING_KEY", err.Error()}
	}
	if err := a.db.RecordSigningKey(ctx, k.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	fileKeys.Store(path, k)
	return k, nil
}

// signingKeys lists every key that signed bundles, the current one marked,
// for GET /v1/exports/signing-key and `casefile export signing-key`.
func (a *app) signingKeys(ctx context.Context) ([]casefile.SigningKey, error) {
	cur, err := a.signingKey(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := a.db.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	curID := export.KeyID(cur.Public().(ed25519.PublicKey))
	for i := range keys {
		keys[i].PEM = export.PublicPEM(keys[i].PublicKey)
		keys[i].Current = keys[i].KeyID == curID
	}
	return keys, nil
}

// openObject opens a stored object for the API's downloads.
func (a *app) openObject(ctx context.Context, key string) (io.ReadCloser, int64, error) {
	return a.s3.Get(ctx, key, (*s3.Range)(nil))
}

// cmdExportSigningKey prints the public key that bundles are signed with,
// for the recipients of bundles.
func cmdExportSigningKey(ctx context.Context, cfg *config, stdout, stderr io.Writer) error {
	a, err := openApp(ctx, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	defer a.close()
	keys, err := a.signingKeys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Current {
			fmt.Fprintf(stdout, "disclosure bundles are signed with %s (since %s); give this to whoever receives them, "+
				"to check with: casefile export verify --key FILE BUNDLE.zip\n%s", k.KeyID, k.CreatedAt.Format(time.RFC3339), k.PEM)
		}
	}
	for _, k := range keys {
		if !k.Current {
			fmt.Fprintf(stdout, "earlier key %s (since %s):\n%s", k.KeyID, k.CreatedAt.Format(time.RFC3339), k.PEM)
		}
	}
	return nil
}

// cmdExportVerify checks a bundle against its manifest, and the manifest
// against its signature by the service's key: given with --key (no service
// needed), or else read from the service's database, when it answers, which
// also checks the bundle against its export.build audit event.
func cmdExportVerify(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := newFlags("export verify", stderr)
	keyFile := fs.String("key", "", "the service's public key (PEM, from `casefile export signing-key` or GET /v1/exports/signing-key)")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: casefile export verify [--key PUBLIC_KEY.pem] BUNDLE.zip")
		return exitError(2)
	}
	path := fs.Arg(0)
	var keys []ed25519.PublicKey
	keySource := ""
	if *keyFile != "" {
		b, err := os.ReadFile(*keyFile)
		if err != nil {
			return err
		}
		k, err := export.ParsePublicKey(b)
		if err != nil {
			fmt.Fprintf(stderr, "casefile export verify: --key %s: %v\n", *keyFile, err)
			return exitError(2)
		}
		keys, keySource = []ed25519.PublicKey{k}, "the key given with --key"
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	// Without --key: the service's own keys and audit log, when its
	// database answers.
	var audit func(exportID string) (string, string, error)
	if keys == nil {
		if db, err := verifyDB(ctx, getenv); err == nil {
			defer db.close()
			if ks, err := db.keys(ctx); err == nil && len(ks) > 0 {
				keys, keySource = ks, "the service's keys in its database"
			}
			audit = db.buildSHA256
		}
	}
	rep, err := export.Verify(f, st.Size(), keys)
	if err != nil {
		fmt.Fprintf(stdout, "%s: NOT a valid casefile bundle: %v\n", path, err)
		return exitError(1)
	}
	m := rep.Manifest
	auditNote := "not checked against the audit log (the service's database was not reachable)"
	if audit != nil {
		switch want, action, err := audit(m.ExportID); {
		case err != nil:
			rep.Problems = append(rep.Problems, export.Problem{Path: path, What: "no export.build audit event of export " + m.ExportID + ": " + casefile.ErrorMessage(err)})
		case want != rep.SHA256:
			rep.Problems = append(rep.Problems, export.Problem{Path: path, What: fmt.Sprintf("sha256 %s, but the %s audit event of %s records %s: this is not the bundle casefile made", rep.SHA256, action, m.ExportID, want)})
		default:
			auditNote = "the bundle's sha256 matches its " + action + " audit event"
		}
	}
	for _, p := range rep.Problems {
		fmt.Fprintf(stdout, "MISMATCH %s\n", p)
	}
	if !rep.OK() {
		fmt.Fprintf(stdout, "%s: %d problem(s); the bundle is not as casefile made it\n", path, len(rep.Problems))
		return exitError(1)
	}
	fmt.Fprintf(stdout, "%s: intact: %d files match the manifest, and the manifest is signed by the service's key %s (checked against %s); %s (person %s, generated %s by %s, audit event %d %s)\n",
		path, rep.Files, rep.SignedBy, keySource, auditNote, m.Person.ExternalRef, m.GeneratedAt.Format("2006-01-02 15:04:05Z07:00"), m.GeneratedBy, m.Audit.Seq, m.Audit.Hash)
	return nil
}

// verifyStore is the service's database as `export verify` uses it.
type verifyStore struct {
	keys func(context.Context) ([]ed25519.PublicKey, error)
	// buildSHA256 returns the sha256 a bundle's build audit event records,
	// and that event's action (export.build, or disclosure.build).
	buildSHA256 func(exportID string) (string, string, error)
	close       func()
}

// verifyDB opens the service's database if the configuration is complete
// and it answers within a few seconds.
func verifyDB(ctx context.Context, getenv func(string) string) (*verifyStore, error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	db, err := openDB(cctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return nil, err
	}
	if err := db.Ping(cctx); err != nil {
		db.Close()
		return nil, err
	}
	return &verifyStore{
		keys: func(ctx context.Context) ([]ed25519.PublicKey, error) {
			ks, err := db.SigningKeys(ctx)
			out := make([]ed25519.PublicKey, 0, len(ks))
			for _, k := range ks {
				out = append(out, ed25519.PublicKey(k.PublicKey))
			}
			return out, err
		},
		buildSHA256: func(exportID string) (string, string, error) {
			action := "export.build"
			evs, _, err := db.AuditEvents(ctx, casefile.AuditFilter{Action: action, TargetID: exportID})
			if err == nil && len(evs) == 0 { // a disclosure's bundle
				action = "disclosure.build"
				evs, _, err = db.AuditEvents(ctx, casefile.AuditFilter{Action: action, TargetID: exportID})
			}
			if err != nil {
				return "", "", err
			}
			if len(evs) == 0 {
				return "", "", errors.New("none found")
			}
			var d struct {
				SHA256 string `json:"sha256"`
			}
			if err := json.Unmarshal(evs[len(evs)-1].Details, &d); err != nil {
				return "", "", err
			}
			return d.SHA256, action, nil
		},
		close: db.Close,
	}, nil
}
