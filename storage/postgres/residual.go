package postgres

import "strings"

// residualCopies is what every destruction certificate says of the copies
// the service cannot reach.
const residualCopies = "Destroyed by this run: every version of each original in the object store, and the record's content in the " +
	"database, whose old row versions were then vacuumed and whose search index was rebuilt. Copies outside the service keep the " +
	"content until they expire: PostgreSQL's write-ahead log until its segments are recycled (normally within a day, after the " +
	"next checkpoints; longer where WAL is archived, for as long as the archive keeps it), and backups of the database and of the " +
	"object store until they expire. Freed space in database pages and on disk is overwritten only as it is reused; " +
	"VACUUM FULL rewrites a table."

// SetResidualCopies sets the operator's statement of how long backups and
// archived WAL are kept (CASEFILE_BACKUP_NOTE), which destruction
// certificates carry after the service's own statement.
func (db *DB) SetResidualCopies(operatorNote string) {
	db.residual = strings.TrimSpace(operatorNote)
}

// residualStatement is the certificate's residual_copies.
func (db *DB) residualStatement() string {
	if db.residual == "" {
		return residualCopies + " The operator has not stated how long backups and archived WAL are kept (CASEFILE_BACKUP_NOTE)."
	}
	return residualCopies + " The operator states: " + db.residual
}
