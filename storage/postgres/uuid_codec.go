package postgres

import (
	"errors"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// uuidCodec is pgtype.UUIDCodec that also writes an id given as a Go string
// (as every id here is) in binary. pgx prefers binary for uuid, but its own
// codec has no binary plan for a string: each id sent was first tried in
// binary, failed with an error formatted for nothing, and was then sent as
// text. A string that is not a canonical uuid still falls back to text, so
// that PostgreSQL judges it as before.
type uuidCodec struct{ pgtype.UUIDCodec }

func (c uuidCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(string); ok && format == pgtype.BinaryFormatCode {
		return encodeUUIDString{}
	}
	return c.UUIDCodec.PlanEncode(m, oid, format, value)
}

type encodeUUIDString struct{}

var errNotCanonicalUUID = errors.New("not a uuid in canonical form")

func (encodeUUIDString) Encode(value any, buf []byte) ([]byte, error) {
	s := value.(string)
	u, err := uuid.Parse(s)
	if err != nil || len(s) != 36 { // canonical only, as validUUID
		return nil, errNotCanonicalUUID
	}
	return append(buf, u[:]...), nil
}

// registerUUIDCodec puts uuidCodec in place for uuid and uuid[] on a new
// connection.
func registerUUIDCodec(conn *pgx.Conn) {
	m := conn.TypeMap()
	t := &pgtype.Type{Name: "uuid", OID: pgtype.UUIDOID, Codec: uuidCodec{}}
	m.RegisterType(t)
	m.RegisterType(&pgtype.Type{Name: "_uuid", OID: pgtype.UUIDArrayOID, Codec: &pgtype.ArrayCodec{ElementType: t}})
}
