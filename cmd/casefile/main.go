// Command casefile is the casefile records service: one binary for the API,
// the background workers, migrations and the operator's commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when GOMEMLIMIT
// is not set: as the heap nears it, the runtime collects garbage sooner and
// gives memory back to the system, so that a process that received a burst
// of uploads does not keep their memory resident. It is soft: a process that
// needs more gets more (at some CPU for collection).
const defaultMemoryLimit = 64 << 20

// defaultGCPercent is GOGC when it is not set. The heap casefile keeps
// between requests is small (a few MiB), so at Go's default of 100 it
// collected garbage every few hundred requests and spent a fifth of its CPU
// on it while serving reads. At 200 it collects half as often and the reads'
// figures are as good as at 400, while its resident memory after a burst of
// traffic stays some 15 MiB lower than at 400 (make bench: a 1 GiB upload
// after the record page's figures peaked at 65 MiB, against 82.5 MiB at 400
// and 62.5 MiB at 100). The memory limit above still bounds the heap.
const defaultGCPercent = 200

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		var ee exitError
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		fmt.Fprintln(os.Stderr, "casefile:", err)
		os.Exit(1)
	}
}

// exitError is an exit status whose message was already printed.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

const usage = `casefile: the casefile records service

Usage:
  casefile migrate                                 apply database migrations
  casefile serve                                   run the HTTP API
  casefile worker                                  run the background workers and scheduler
  casefile run                                     migrate, then API + workers + scheduler
  casefile s3 setup                                as the S3 server's root (CASEFILE_S3_ROOT_ACCESS_KEY/_SECRET_KEY):
                                                   make the bucket with Object Lock and apply the bucket policy
                                                   for the app, records and anchor credentials
  casefile maintain [--every 10m]                  as the tables' owner (CASEFILE_MIGRATE_DATABASE_URL), vacuum
                                                   what removals and destructions left to purge
  casefile token create --name NAME --role ROLE [--expires 90d]
                                                   create an API token (printed once; it expires, by default in 90 days)
  casefile token list                              list tokens: role, expiry, last use, revoked or not
  casefile token revoke ID                         end a token now (and the browser sessions made with it)
  casefile audit verify                            verify the audit log's hash chain and every anchor
  casefile audit anchor                            keep the audit log's heads in the bucket now
  casefile notes import --csv FILE                 import legacy case notes
  casefile notes scan [--raise-tickets]            find stored notes with pasted emails
  casefile export verify [--key PUB.pem] BUNDLE.zip check a disclosure bundle against its manifest, the manifest
                                                   against the service's signature, and (with the service's
                                                   database) the bundle against its export.build audit event
  casefile export signing-key                      print the public key that signs disclosure bundles
  casefile extract backfill                        queue the text extraction of every document still waiting for it
  casefile extract file PATH                       print the text extracted from a local file (with the limits set)

Configuration is read from CASEFILE_* environment variables; see README.md.
`

// run is the whole program; tests call it with their own environment.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitError(2)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "export":
		if len(rest) > 0 && rest[0] == "verify" {
			return cmdExportVerify(ctx, rest[1:], getenv, stdout, stderr)
		}
		if len(rest) == 0 || rest[0] != "signing-key" {
			fmt.Fprint(stderr, usage)
			return exitError(2)
		}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	switch cmd {
	case "migrate":
		return cmdMigrate(ctx, cfg, stdout, stderr)
	case "serve":
		return cmdServe(ctx, cfg, stdout, stderr, modeServe)
	case "worker":
		return cmdServe(ctx, cfg, stdout, stderr, modeWorker)
	case "run":
		return cmdServe(ctx, cfg, stdout, stderr, modeRun)
	case "maintain":
		return cmdMaintain(ctx, cfg, rest, stdout, stderr)
	case "s3":
		if len(rest) > 0 && rest[0] == "setup" {
			return cmdS3Setup(ctx, cfg, getenv, stdout)
		}
	case "token":
		return cmdToken(ctx, cfg, rest, stdout, stderr)
	case "audit":
		if len(rest) > 0 && rest[0] == "verify" {
			return cmdAuditVerify(ctx, cfg, stdout, stderr)
		}
		if len(rest) > 0 && rest[0] == "anchor" {
			return cmdAuditAnchor(ctx, cfg, stdout, stderr)
		}
	case "export":
		return cmdExportSigningKey(ctx, cfg, stdout, stderr)
	case "extract":
		if len(rest) > 0 {
			switch rest[0] {
			case "backfill":
				return cmdExtractBackfill(ctx, cfg, rest[1:], stdout, stderr)
			case "file":
				return cmdExtractFile(ctx, cfg, rest[1:], stdout, stderr)
			}
		}
	case "notes":
		if len(rest) > 0 {
			switch rest[0] {
			case "import":
				return cmdNotesImport(ctx, cfg, rest[1:], stdout, stderr)
			case "scan":
				return cmdNotesScan(ctx, cfg, rest[1:], stdout, stderr)
			}
		}
	}
	fmt.Fprint(stderr, usage)
	return exitError(2)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}
