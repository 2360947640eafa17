-- One stored email may be filed on several persons' records (siblings named in
-- one letter): a link is a document row of its own on the other record, under
-- that record's retention, holds and removals, that names the same object as
-- the row it was filed from. An object key is therefore no longer unique: the
-- object goes only when no active row names it any longer (the last record to
-- let it go destroys it), and its Object Lock follows every row that names it.
ALTER TABLE documents DROP CONSTRAINT documents_object_key_key;
CREATE INDEX documents_object_key ON documents (object_key);
-- The document (on another record) a link was filed from; NULL for uploads.
ALTER TABLE documents ADD COLUMN linked_from uuid REFERENCES documents(id);
CREATE INDEX documents_linked_from ON documents (linked_from) WHERE linked_from IS NOT NULL;
