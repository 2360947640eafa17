package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/council/casefile/internal/testenv"
)

// iamS3 is a versitygw of the test's own with IAM accounts: the root, and
// the app, records and anchor credentials, with deploy/s3/bucket-policy.json
// on a bucket the root made with Object Lock.
type iamS3 struct {
	addr, bucket string
	keys         map[string][2]string // app, records, anchor, root → access, secret
}

func (s *iamS3) client(t *testing.T, who string) *minio.Client {
	t.Helper()
	k := s.keys[who]
	c, err := minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(k[0], k[1], ""), Region: "us-east-1", TrailingHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func startIAMS3(t *testing.T) *iamS3 {
	t.Helper()
	bin := testenv.S3Binary(t)
	dir := t.TempDir()
	for _, d := range []string{"data", "versions", "iam"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s := &iamS3{addr: freeAddr(t), bucket: "casefile-" + testenv.RandomName(8), keys: map[string][2]string{
		"root": {"root", "root-" + testenv.RandomName(16)}, "app": {"casefile-app", "app-" + testenv.RandomName(16)},
		"records": {"casefile-records", "records-" + testenv.RandomName(16)}, "anchor": {"casefile-anchors", "anchors-" + testenv.RandomName(16)}}}
	cmd := exec.Command(bin, "--access", s.keys["root"][0], "--secret", s.keys["root"][1], "--iam-dir", filepath.Join(dir, "iam"),
		"--keep-alive", "--port", s.addr, "posix", "--versioning-dir", filepath.Join(dir, "versions"), filepath.Join(dir, "data"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) //nolint:errcheck
		cmd.Wait()                                      //nolint:errcheck
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("versitygw did not listen on %s", s.addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, who := range []string{"app", "records", "anchor"} {
		out, err := exec.Command(bin, "admin", "-a", s.keys["root"][0], "-s", s.keys["root"][1], "--er", "http://"+s.addr,
			"create-user", "-a", s.keys[who][0], "-s", s.keys[who][1], "-r", "user").CombinedOutput()
		if err != nil {
			t.Fatalf("versitygw admin create-user %s: %v %s", who, err, out)
		}
	}
	// The bucket and its policy, as `casefile s3 setup` makes them with the
	// root credential given to it alone.
	env := map[string]string{"CASEFILE_S3_ENDPOINT": s.addr, "CASEFILE_S3_BUCKET": s.bucket,
		"CASEFILE_S3_ROOT_ACCESS_KEY": s.keys["root"][0], "CASEFILE_S3_ROOT_SECRET_KEY": s.keys["root"][1],
		"CASEFILE_S3_ACCESS_KEY": s.keys["app"][0], "CASEFILE_S3_SECRET_KEY": s.keys["app"][1],
		"CASEFILE_S3_RECORDS_ACCESS_KEY": s.keys["records"][0], "CASEFILE_S3_RECORDS_SECRET_KEY": s.keys["records"][1],
		"CASEFILE_ANCHOR_S3_ACCESS_KEY": s.keys["anchor"][0], "CASEFILE_ANCHOR_S3_SECRET_KEY": s.keys["anchor"][1]}
	var out, errOut strings.Builder
	if err := run(context.Background(), []string{"s3", "setup"}, func(k string) string { return env[k] }, &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "policy applied") {
		t.Fatalf("casefile s3 setup: %v %s %s", err, out.String(), errOut.String())
	}
	// Without the root credential it says what it needs.
	delete(env, "CASEFILE_S3_ROOT_SECRET_KEY")
	if err := run(context.Background(), []string{"s3", "setup"}, func(k string) string { return env[k] }, &out, &errOut); err == nil ||
		!strings.Contains(err.Error(), "CASEFILE_S3_ROOT_ACCESS_KEY") {
		t.Fatalf("casefile s3 setup without the root credential: %v", err)
	}
	return s
}

// With the credentials of deploy/s3/bucket-policy.json on an S3 server that
// enforces it (versitygw with IAM accounts), the app's own credential stores
// and reads records but can neither lift a legal hold, bypass governance,
// delete, nor write or hide an anchor; the records credential destroys; the
// anchor credential anchors; and casefile runs with the three.
func TestTheAppsS3CredentialCannotLiftHoldsOrBypassGovernance(t *testing.T) {
	s3 := startIAMS3(t)
	ctx := context.Background()
	app, records := s3.client(t, "app"), s3.client(t, "records")
	until := time.Now().Add(time.Hour)
	info, err := app.PutObject(ctx, s3.bucket, "documents/one", bytes.NewReader([]byte("a record")), 8,
		minio.PutObjectOptions{Mode: minio.Governance, RetainUntilDate: until})
	if err != nil {
		t.Fatalf("the app stores a record: %v", err)
	}
	on, off := minio.LegalHoldEnabled, minio.LegalHoldDisabled
	if err := records.PutObjectLegalHold(ctx, s3.bucket, "documents/one", minio.PutObjectLegalHoldOptions{VersionID: info.VersionID, Status: &on}); err != nil {
		t.Fatalf("the records credential places a legal hold: %v", err)
	}
	refused := map[string]error{
		"lift a legal hold": app.PutObjectLegalHold(ctx, s3.bucket, "documents/one", minio.PutObjectLegalHoldOptions{VersionID: info.VersionID, Status: &off}),
		"delete bypassing governance": app.RemoveObject(ctx, s3.bucket, "documents/one",
			minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}),
		"hide a record behind a delete marker": app.RemoveObject(ctx, s3.bucket, "documents/one", minio.RemoveObjectOptions{}),
	}
	_, refused["write an anchor"] = app.PutObject(ctx, s3.bucket, "audit-anchors/forged.json", bytes.NewReader([]byte("{}")), 2, minio.PutObjectOptions{})
	for what, err := range refused {
		if minio.ToErrorResponse(err).Code != "AccessDenied" {
			t.Errorf("the app's credential could %s: %v", what, err)
		}
	}
	if err := records.PutObjectLegalHold(ctx, s3.bucket, "documents/one", minio.PutObjectLegalHoldOptions{VersionID: info.VersionID, Status: &off}); err != nil {
		t.Fatal(err)
	}
	if err := records.RemoveObject(ctx, s3.bucket, "documents/one", minio.RemoveObjectOptions{VersionID: info.VersionID, GovernanceBypass: true}); err != nil {
		t.Fatalf("the records credential destroys: %v", err)
	}

	// casefile with the three credentials: uploads with the app's, anchors
	// with the anchor credential.
	svc := startService(t, map[string]string{
		"CASEFILE_S3_ENDPOINT": s3.addr, "CASEFILE_S3_BUCKET": s3.bucket,
		"CASEFILE_S3_ACCESS_KEY": s3.keys["app"][0], "CASEFILE_S3_SECRET_KEY": s3.keys["app"][1],
		"CASEFILE_S3_RECORDS_ACCESS_KEY": s3.keys["records"][0], "CASEFILE_S3_RECORDS_SECRET_KEY": s3.keys["records"][1],
		"CASEFILE_ANCHOR_S3_ACCESS_KEY": s3.keys["anchor"][0], "CASEFILE_ANCHOR_S3_SECRET_KEY": s3.keys["anchor"][1],
	})
	person := svc.person("S3-1", "2014-04-04")
	if r := svc.upload(person, svc.Admin, "letter.txt", "text/plain", []byte("Dear Sir")); r.Status != 201 {
		t.Fatalf("upload with the app's credential: %d %s", r.Status, r.Body)
	}
	if out, err := svc.cli("audit", "anchor"); err != nil || !strings.Contains(out, "audit-anchors/") {
		t.Fatalf("anchor with the anchor credential: %v %s", err, out)
	}
	if out, err := svc.cli("audit", "verify"); err != nil || !strings.Contains(out, "matches the anchor kept in the bucket") {
		t.Fatalf("verify: %v %s", err, out)
	}
}

// Every kind of object casefile keeps goes through the credentials of the
// bucket policy: with them, an export bundle and a disclosure bundle are
// built (the app's credential) and destroyed with their record (the records
// credential), as under `make run` and in production.
func TestBundlesBuiltAndDestroyedUnderTheBucketPolicy(t *testing.T) {
	s3 := startIAMS3(t)
	svc := startService(t, map[string]string{
		"CASEFILE_S3_ENDPOINT": s3.addr, "CASEFILE_S3_BUCKET": s3.bucket,
		"CASEFILE_S3_ACCESS_KEY": s3.keys["app"][0], "CASEFILE_S3_SECRET_KEY": s3.keys["app"][1],
		"CASEFILE_S3_RECORDS_ACCESS_KEY": s3.keys["records"][0], "CASEFILE_S3_RECORDS_SECRET_KEY": s3.keys["records"][1],
		"CASEFILE_ANCHOR_S3_ACCESS_KEY": s3.keys["anchor"][0], "CASEFILE_ANCHOR_S3_SECRET_KEY": s3.keys["anchor"][1],
		"CASEFILE_RETENTION_SETTLE_DAYS": "0",
	})
	ro := svc.token("records_officer")
	person, _ := svc.earlyHelp(t, "S3-BUNDLES", time.Now().UTC().AddDate(-30, 0, -1))

	exp := svc.must(202, "POST", "/v1/persons/"+person+"/exports", ro, nil)["id"].(string)
	eventually(t, 60*time.Second, "the export bundle is built", func() bool {
		e := svc.must(200, "GET", "/v1/exports/"+exp, ro, nil)
		if e["state"] == "failed" {
			t.Fatalf("export = %v", e)
		}
		return e["state"] == "done"
	})
	svc.must(200, "GET", "/v1/exports/"+exp+"/content", ro, nil)
	disc := svc.must(201, "POST", "/v1/persons/"+person+"/disclosures", ro,
		map[string]any{"purpose": "court", "requester": "Family court"})["id"].(string)
	svc.must(202, "POST", "/v1/disclosures/"+disc+"/finalise", ro, nil)
	eventually(t, 60*time.Second, "the disclosure bundle is built", func() bool {
		d := svc.must(200, "GET", "/v1/disclosures/"+disc, ro, nil)
		if d["state"] == "failed" {
			t.Fatalf("disclosure = %v", d)
		}
		return d["state"] == "ready"
	})
	if r := svc.do("GET", "/v1/disclosures/"+disc+"/content", ro, nil); r.Status != 200 || !bytes.HasPrefix([]byte(r.Body), []byte("PK")) {
		t.Fatalf("disclosure content: %d %.200s", r.Status, r.Body)
	}

	root := s3.client(t, "root")
	versions := func(key string) int {
		n := 0
		for o := range root.ListObjects(context.Background(), s3.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
			if o.Err != nil {
				t.Fatal(o.Err)
			}
			n++
		}
		return n
	}
	keys := []string{"exports/" + exp + ".zip", "disclosures/" + disc + ".zip"}
	for _, k := range keys {
		if versions(k) == 0 {
			t.Fatalf("no object %s", k)
		}
	}

	run := svc.must(202, "POST", "/v1/retention/runs", ro, map[string]any{"dry_run": false})["id"].(string)
	svc.waitState(t, ro, run, "awaiting_approval")
	svc.must(202, "POST", "/v1/retention/runs/"+run+"/approve", ro, nil)
	if r := svc.waitState(t, ro, run, "done"); r["destroyed"] != float64(2) {
		t.Fatalf("run = %v", r)
	}
	if p := svc.must(200, "GET", "/v1/persons/"+person, svc.Admin, nil); p["status"] != "destroyed" {
		t.Fatalf("person = %v", p)
	}
	for _, k := range keys {
		if n := versions(k); n != 0 {
			t.Errorf("%s: %d versions left after its record was destroyed", k, n)
		}
	}
}
