package ingest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/council/casefile"
	"github.com/council/casefile/ingest"
	"github.com/council/casefile/internal/testenv"
	"github.com/council/casefile/storage/s3"
)

// The memory budget decides whether an upload is read whole or streamed;
// with the budget spent, concurrent uploads of every size still arrive
// byte-exact, with their attachments, and nothing of the budget stays held.
func TestUploadsStreamWhenTheMemoryBudgetIsSpent(t *testing.T) {
	db, st := testenv.Postgres(t), testenv.S3(t)
	ctx := casefile.WithActor(context.Background(), casefile.SystemActor("test"))
	p := &casefile.Person{ExternalRef: "BUDGET-1", GivenName: "Amy", FamilyName: "Budget"}
	if err := db.CreatePerson(ctx, p); err != nil {
		t.Fatal(err)
	}
	for round, budget := range []int64{1, 3 << 20, 5 << 20, 64 << 20} {
		svc := &ingest.Service{Store: db, Blobs: s3.Blobs{S: st}, MaxBytes: 64 << 20, MemoryBudget: budget}
		var wg sync.WaitGroup
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				att := bytes.Repeat([]byte{byte(i), byte(round)}, (i+1)<<18) // 0.5 to 3 MiB
				mail := []byte("From: a@example.org\r\nSubject: budget " + strings.Repeat("x", i) + "\r\nMIME-Version: 1.0\r\n" +
					"Content-Type: multipart/mixed; boundary=B\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B\r\n" +
					"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.bin\r\n\r\n")
				mail = append(append(mail, att...), "\r\n--B--\r\n"...)
				size := int64(len(mail))
				if i%2 == 1 {
					size = -1 // as a multipart form part arrives
				}
				staged, err := svc.Stage(ctx, ingest.Upload{PersonID: p.ID, Filename: "m.eml", DeclaredType: "message/rfc822",
					Body: bytes.NewReader(mail), Size: size})
				if err != nil {
					t.Error(err)
					return
				}
				d, dup, err := svc.Commit(ctx, staged, "", "correspondence", "")
				if err != nil || dup {
					t.Errorf("commit: %v (duplicate %v)", err, dup)
					return
				}
				sum := sha256.Sum256(att)
				if d.SHA256 != sha(mail) || len(d.Attachments) != 1 || d.Attachments[0].SHA256 != hex.EncodeToString(sum[:]) {
					t.Errorf("budget %d, upload %d: document %+v", budget, i, d)
					return
				}
				for key, want := range map[string][]byte{d.ObjectKey: mail, d.Attachments[0].ObjectKey: att} {
					rc, _, err := st.Get(ctx, key, nil)
					if err != nil {
						t.Error(err)
						return
					}
					got, _ := io.ReadAll(rc)
					rc.Close()
					if !bytes.Equal(got, want) {
						t.Errorf("budget %d, upload %d: %s holds %d bytes, want the %d sent", budget, i, key, len(got), len(want))
					}
				}
			}()
		}
		wg.Wait()
		if !svc.MemoryIdle() {
			t.Fatalf("budget %d: memory still held after every upload finished", budget)
		}
	}
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
