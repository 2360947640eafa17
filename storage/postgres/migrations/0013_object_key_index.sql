-- The reconciliation sweep walks active documents' object keys in byte order
-- (the order S3 lists them in) beside the bucket listing, a page at a time.
CREATE INDEX documents_active_object_key ON documents ((object_key COLLATE "C")) WHERE status = 'active';
