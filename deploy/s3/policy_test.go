package s3policy

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

type statement struct {
	Principal struct {
		AWS []string
	}
	Action   []string
	Resource []string
}

// grants lists "action resource" for every object-level grant (a resource
// under the bucket) of the policy that names principal, or of every
// statement when principal is empty (a MinIO user policy names none).
func grants(t *testing.T, policy, principal string) []string {
	t.Helper()
	var p struct{ Statement []statement }
	if err := json.Unmarshal([]byte(policy), &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range p.Statement {
		if principal != "" && !slices.Contains(s.Principal.AWS, principal) {
			continue
		}
		for _, r := range s.Resource {
			if !strings.Contains(r, "/") {
				continue // the bucket itself: MinIO needs GetBucketLocation besides
			}
			for _, a := range s.Action {
				out = append(out, a+" "+r)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// The MinIO user policies (docker-compose's s3-init) allow each credential
// on objects exactly what the bucket policy (`casefile s3 setup`) does, and
// both cover every prefix casefile keeps objects under: a disclosure bundle
// once could not be written under the policy.
func TestMinIOPoliciesMatchTheBucketPolicy(t *testing.T) {
	bucket := Bucket("casefile", "APP", "RECORDS", "ANCHORS")
	for who, file := range map[string]string{"APP": "casefile-app", "RECORDS": "casefile-records", "ANCHORS": "casefile-anchors"} {
		b, err := os.ReadFile("minio/" + file + ".json")
		if err != nil {
			t.Fatal(err)
		}
		want, got := grants(t, bucket, who), grants(t, string(b), "")
		if !slices.Equal(want, got) {
			t.Errorf("%s: the MinIO policy allows\n%s\nthe bucket policy\n%s", file, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	app := grants(t, bucket, "APP")
	for _, prefix := range []string{"documents/", "exports/", "disclosures/"} {
		if !slices.Contains(app, "s3:PutObject arn:aws:s3:::casefile/"+prefix+"*") {
			t.Errorf("the app's credential cannot write under %s", prefix)
		}
	}
	records := grants(t, bucket, "RECORDS")
	for _, prefix := range []string{"documents/", "exports/", "disclosures/"} {
		if !slices.Contains(records, "s3:DeleteObjectVersion arn:aws:s3:::casefile/"+prefix+"*") {
			t.Errorf("the records credential cannot destroy under %s", prefix)
		}
	}
}
