package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/council/casefile"
)

// TestEventHashWithoutActorIDIsTheOldHash proves that events recorded before
// audit events carried the actor's id hash exactly as they did then (so the
// log keeps verifying after the upgrade), and that an id, once there, is part
// of the hash.
func TestEventHashWithoutActorIDIsTheOldHash(t *testing.T) {
	// The canonical form before actor_id, copied from the code it replaced.
	oldHash := func(ev *casefile.AuditEvent, chain int) string {
		canon := struct {
			Seq        int64           `json:"seq"`
			At         string          `json:"at"`
			Actor      string          `json:"actor"`
			Action     string          `json:"action"`
			TargetType string          `json:"target_type"`
			TargetID   string          `json:"target_id"`
			PersonID   string          `json:"person_id"`
			Details    json.RawMessage `json:"details"`
			PrevHash   string          `json:"prev_hash"`
			Chain      int             `json:"chain,omitempty"`
		}{ev.Seq, ev.At.UTC().Format(time.RFC3339Nano), ev.Actor, ev.Action, ev.TargetType, ev.TargetID, ev.PersonID,
			ev.Details, ev.PrevHash, chain}
		b, _ := json.Marshal(canon)
		sum := sha256.Sum256(b)
		return hex.EncodeToString(sum[:])
	}
	ev := &casefile.AuditEvent{Seq: 42, At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), Actor: "Jo Bloggs", Action: "person.read",
		TargetType: "person", TargetID: "p-1", PersonID: "p-1", Details: json.RawMessage(`{}`), PrevHash: genesisHash}
	for _, chain := range []int{0, 3} {
		if got, want := eventHash(ev, chain), oldHash(ev, chain); got != want {
			t.Fatalf("chain %d: an event without actor_id hashes to %s, was %s", chain, got, want)
		}
	}
	withID := *ev
	withID.ActorID = "0190a0c0-0000-7000-8000-000000000001"
	other := withID
	other.ActorID = "0190a0c0-0000-7000-8000-000000000002"
	if eventHash(&withID, 0) == eventHash(ev, 0) || eventHash(&withID, 0) == eventHash(&other, 0) {
		t.Fatal("actor_id is not part of the hash")
	}
}
