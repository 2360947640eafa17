// Package s3 keeps originals in an S3-compatible bucket with Object Lock,
// through the S3 API only (no server-specific administration), so that
// casefile runs on any S3 server that implements Object Lock.
//
// Every object is written with a governance-mode retain-until date, so that
// nothing can delete it before its time except a caller that explicitly
// bypasses governance (an approved removal or a due retention run).
package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/council/casefile"
)

// Config says where the bucket is.
type Config struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	Secure    bool
	Region    string
}

// PartSize is the multipart part size for streams of unknown length. It bounds
// the memory one upload holds (minio-go buffers one part at a time) and, at
// 10,000 parts, the largest such stream (156 GiB).
const PartSize = 16 << 20

// minPartSize is S3's smallest part (but the last).
const minPartSize = 5 << 20

// partSizeFor is the part size of a stream of known size: the smallest S3
// takes, unless the object needs larger parts to fit in 10,000. minio-go
// allocates a buffer of one part per upload, so this is most of what an
// upload in flight holds.
func partSizeFor(size int64) uint64 {
	if size < 0 {
		return PartSize
	}
	const maxParts = 10000
	ps := int64(minPartSize)
	if need := (size + maxParts - 1) / maxParts; need > ps {
		ps = (need + 1<<20 - 1) &^ (1<<20 - 1) // whole MiB
	}
	return uint64(ps)
}

// Store is the object store.
type Store struct {
	client *minio.Client
	bucket string
	log    *slog.Logger
}

// Open connects to the server and makes sure the bucket exists with Object
// Lock and versioning enabled, creating it when missing.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr, err := minio.DefaultTransport(cfg.Secure)
	if err != nil {
		return nil, err
	}
	tr.ResponseHeaderTimeout = 60 * time.Second
	tr.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:     cfg.Secure,
		Region:     cfg.Region,
		Transport:  tr,
		MaxRetries: 2, // a server that is down must turn into a prompt 503, not a minute of retries
		// Checksums: PutChecked's x-amz-checksum-sha256 header (which minio-go
		// allows only with this), and over TLS a CRC32C trailer on streamed
		// uploads (which S3 requires of a write under Object Lock when there
		// is no Content-MD5).
		TrailingHeaders: true,
	})
	if err != nil {
		return nil, fmt.Errorf("CASEFILE_S3_ENDPOINT: %w", err)
	}
	s := &Store{client: client, bucket: cfg.Bucket, log: log}
	if err := s.ensureBucket(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("S3 bucket %q: %w", s.bucket, mapError(err))
	}
	if !ok {
		err := s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{ObjectLocking: true})
		if err != nil {
			code := minio.ToErrorResponse(err).Code
			if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
				return fmt.Errorf("create S3 bucket %q with Object Lock: %w", s.bucket, err)
			}
		}
	}
	lock, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
	if err != nil || lock != "Enabled" {
		return fmt.Errorf("S3 bucket %q does not have Object Lock enabled (%v): casefile needs a bucket created with Object Lock; "+
			"name a new bucket in CASEFILE_S3_BUCKET and casefile will create it", s.bucket, err)
	}
	return nil
}

// Bucket names the bucket.
func (s *Store) Bucket() string { return s.bucket }

// Client exposes the minio client to benchmarks and tests.
func (s *Store) Client() *minio.Client { return s.client }

// Ping checks that the server answers for the bucket.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err := s.client.BucketExists(ctx, s.bucket)
	return mapError(err)
}

// PutResult describes a stored object version.
type PutResult struct {
	VersionID string
	Size      int64
}

// Put stores r under key with a governance retain-until date. size may be -1
// when unknown; the stream is then sent in parts of PartSize.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string, retainUntil time.Time) (PutResult, error) {
	return s.put(ctx, key, r, size, partSizeFor(size), contentType, retainUntil)
}

func (s *Store) put(ctx context.Context, key string, r io.Reader, size int64, partSize uint64, contentType string, retainUntil time.Time) (PutResult, error) {
	opts := minio.PutObjectOptions{
		ContentType: contentType,
		PartSize:    partSize,
		NumThreads:  1,
		// No sha256 of the payload for the request's signature: the caller
		// hashes the stream itself, and each request carries a CRC32C
		// checksum (TrailingHeaders) that the server checks.
		DisableContentSha256: true,
	}
	if !retainUntil.IsZero() {
		opts.Mode = minio.Governance
		opts.RetainUntilDate = retainUntil.UTC()
	}
	if contentType == "" {
		opts.ContentType = "application/octet-stream"
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, r, size, opts)
	if err != nil {
		return PutResult{}, mapError(err)
	}
	return PutResult{VersionID: info.VersionID, Size: info.Size}, nil
}

// PutChecked stores b, whose sha256 the caller computed, in one request
// under a governance retain-until date. The checksum travels in
// x-amz-checksum-sha256 and the server refuses the object unless the bytes it
// received have that sha256, so the payload need not be signed as well: what
// is kept is exactly what was hashed, checked end to end in a single pass.
func (s *Store) PutChecked(ctx context.Context, key string, b []byte, sum []byte, contentType string, retainUntil time.Time) (PutResult, error) {
	return s.putChecked(ctx, key, b, sum, contentType, minio.Governance, retainUntil)
}

func (s *Store) putChecked(ctx context.Context, key string, b []byte, sum []byte, contentType string, mode minio.RetentionMode, retainUntil time.Time) (PutResult, error) {
	if len(sum) != sha256.Size {
		return PutResult{}, fmt.Errorf("s3: PutChecked %s: a sha256 is %d bytes, got %d", key, sha256.Size, len(sum))
	}
	want := base64.StdEncoding.EncodeToString(sum)
	opts := minio.PutObjectOptions{
		ContentType:          contentType,
		DisableContentSha256: true,
		DisableMultipart:     true,
		UserMetadata:         map[string]string{"x-amz-checksum-sha256": want},
	}
	if !retainUntil.IsZero() {
		opts.Mode = mode
		opts.RetainUntilDate = retainUntil.UTC()
	}
	if contentType == "" {
		opts.ContentType = "application/octet-stream"
	}
	info, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		return PutResult{}, mapError(err)
	}
	if info.ChecksumSHA256 != "" && info.ChecksumSHA256 != want {
		return PutResult{}, fmt.Errorf("s3: %s stored with sha256 %s, sent %s", key, info.ChecksumSHA256, want)
	}
	return PutResult{VersionID: info.VersionID, Size: info.Size}, nil
}

// Range is an inclusive byte range; End < 0 means to the end.
type Range struct {
	Start, End int64
}

// Get opens the current version of key, or a range of it.
func (s *Store) Get(ctx context.Context, key string, rng *Range) (io.ReadCloser, int64, error) {
	opts := minio.GetObjectOptions{}
	if rng != nil {
		if err := opts.SetRange(rng.Start, rng.End); err != nil {
			return nil, 0, casefile.Errorf(casefile.EInvalid, "invalid_range", "The Range header is not satisfiable.")
		}
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, opts)
	if err != nil {
		return nil, 0, mapError(err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, 0, mapError(err)
	}
	return obj, st.Size, nil
}

// Stat returns the size of the current version of key.
func (s *Store) Stat(ctx context.Context, key string) (int64, error) {
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return 0, mapError(err)
	}
	return st.Size, nil
}

// versions lists every version and delete marker of exactly key.
func (s *Store) versions(ctx context.Context, key string) ([]minio.ObjectInfo, error) {
	var out []minio.ObjectInfo
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			return nil, mapError(o.Err)
		}
		if o.Key == key {
			out = append(out, o)
		}
	}
	return out, nil
}

// Destroy removes every version of key, lifting legal holds and bypassing
// governance retention. It is idempotent: a key with no versions is done.
func (s *Store) Destroy(ctx context.Context, key string) error {
	vs, err := s.versions(ctx, key)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if !v.IsDeleteMarker {
			off := minio.LegalHoldDisabled
			err := s.client.PutObjectLegalHold(ctx, s.bucket, key, minio.PutObjectLegalHoldOptions{VersionID: v.VersionID, Status: &off})
			if err != nil && !isNotFound(err) {
				return mapError(err)
			}
		}
		err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{VersionID: v.VersionID, GovernanceBypass: true})
		if err != nil && !isNotFound(err) {
			return mapError(err)
		}
	}
	return nil
}

// SetRetention sets the governance retain-until of every version of key.
// S3 allows extending governance retention freely; shortening it needs the
// bypass, which we also send so that a schedule change can bring a date in.
func (s *Store) SetRetention(ctx context.Context, key string, until time.Time) error {
	vs, err := s.versions(ctx, key)
	if err != nil {
		return err
	}
	mode := minio.Governance
	u := until.UTC()
	for _, v := range vs {
		if v.IsDeleteMarker {
			continue
		}
		err := s.client.PutObjectRetention(ctx, s.bucket, key, minio.PutObjectRetentionOptions{
			VersionID: v.VersionID, Mode: &mode, RetainUntilDate: &u, GovernanceBypass: true})
		if err != nil {
			return mapError(err)
		}
	}
	return nil
}

// SetLegalHold turns the legal hold of every version of key on or off.
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	vs, err := s.versions(ctx, key)
	if err != nil {
		return err
	}
	st := minio.LegalHoldDisabled
	if on {
		st = minio.LegalHoldEnabled
	}
	for _, v := range vs {
		if v.IsDeleteMarker {
			continue
		}
		if err := s.client.PutObjectLegalHold(ctx, s.bucket, key, minio.PutObjectLegalHoldOptions{VersionID: v.VersionID, Status: &st}); err != nil {
			return mapError(err)
		}
	}
	return nil
}

// ObjectInfo is a listed object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// List calls fn for each current object under prefix.
func (s *Store) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	// Cancelled on return, so that minio-go's lister stops when fn fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return mapError(o.Err)
		}
		if err := fn(ObjectInfo{Key: o.Key, Size: o.Size, LastModified: o.LastModified}); err != nil {
			return err
		}
	}
	return nil
}

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey", "NoSuchVersion", "NoSuchObjectLockConfiguration":
		return true
	}
	return false
}

// mapError translates minio errors at the boundary.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var ce *casefile.Error
	if errors.As(err, &ce) {
		return err
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == "NoSuchKey" || resp.Code == "NoSuchVersion":
		return &casefile.Error{Kind: casefile.ENotFound, Code: "not_found", Message: "The stored object was not found.", Err: err}
	case resp.Code == "InvalidRange":
		return &casefile.Error{Kind: casefile.EInvalid, Code: "invalid_range", Message: "The Range header is not satisfiable.", Err: err}
	case resp.Code == "AccessDenied" && strings.Contains(strings.ToLower(resp.Message), "retention"),
		resp.Code == "ObjectLocked":
		return &casefile.Error{Kind: casefile.EConflict, Code: "object_locked", Message: "The object is protected by Object Lock.", Err: err}
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusServiceUnavailable:
		return casefile.Unavailable("S3", err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "connection reset") {
		return casefile.Unavailable("S3", err)
	}
	return fmt.Errorf("s3: %w", err)
}
