package msg

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/richardlehane/mscfb"
)

// node is a storage or stream of the compound file, arranged as a tree (mscfb
// gives a flat list with paths).
type node struct {
	name  string
	upper string      // name in upper case (see key)
	file  *mscfb.File // nil for the root and for storages only known from paths
	dir   bool
	kids  map[string]*node

	data []byte // cached stream content
	read bool
}

// key is the node's name in upper case, as the format's names are matched
// (computed once: a .msg with many recipients has thousands of entries).
func (n *node) key() string {
	if n.upper == "" && n.name != "" {
		n.upper = strings.ToUpper(n.name)
	}
	return n.upper
}

// openTree opens the compound file and arranges its entries as a tree.
func openTree(ra io.ReaderAt) (*node, error) {
	r, err := newReader(ra)
	if err != nil {
		return nil, err
	}
	root := &node{dir: true}
	// The entries' nodes come from one slice (a .msg with many recipients
	// has thousands), and a storage's map of children is made when its first
	// child comes: most entries are streams, which have none.
	slab := make([]node, len(r.File))
	child := func(parent *node, name string, slot *node) *node {
		c := parent.kids[name]
		if c == nil {
			if parent.kids == nil {
				parent.kids = map[string]*node{}
			}
			if c = slot; c == nil {
				c = &node{}
			}
			c.name = name
			parent.kids[name] = c
		}
		return c
	}
	for i, f := range r.File {
		if i == 0 {
			continue // the root entry itself
		}
		parent := root
		for _, p := range f.Path {
			parent = child(parent, p, nil)
			if parent.file == nil {
				parent.dir = true // known from a path only
			}
		}
		c := child(parent, f.Name, &slab[i])
		c.file = f
		c.dir = f.FileInfo().IsDir()
	}
	return root, nil
}

// newReader calls mscfb.New, turning a panic on malformed input into an
// error: mscfb is third-party code we cannot harden, and one bad upload must
// not take the service down.
func newReader(ra io.ReaderAt) (r *mscfb.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("compound file reader failed: %v", p)
		}
	}()
	return mscfb.New(ra)
}

var errTooBig = errors.New("exceeds the read limit")

// readStream returns the content of a stream node, reading it once. The
// declared size is untrusted: it is checked against the file size and the
// remaining read budget before anything is allocated.
func (p *parser) readStream(n *node) ([]byte, error) {
	return p.readStreamMax(n, MaxPropertyBytes)
}

// readStreamMax is readStream reading at most max bytes (the rest is
// dropped with an error saying so).
func (p *parser) readStreamMax(n *node, max int64) (_ []byte, err error) {
	if n.read {
		return n.data, nil
	}
	n.read = true
	if n.file == nil || n.dir {
		return nil, nil
	}
	size := n.file.Size
	if size <= 0 {
		return nil, nil
	}
	if size > p.size {
		return nil, fmt.Errorf("stream %s claims %d bytes in a %d-byte file", n.name, size, p.size)
	}
	if size > max {
		size = max
		defer func() {
			if err == nil {
				err = fmt.Errorf("stream %s of %d bytes: only its first %d bytes were read", n.name, n.file.Size, size)
			}
		}()
	}
	if size > p.budget {
		return nil, fmt.Errorf("stream %s (%d bytes) %w", n.name, size, errTooBig)
	}
	p.budget -= size
	buf := make([]byte, size)
	k, err := readAt(n.file, buf)
	if k < len(buf) {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		n.data = buf[:k]
		return n.data, fmt.Errorf("stream %s: read %d of %d bytes: %v", n.name, k, size, err)
	}
	n.data = buf
	return buf, nil
}

// readAt reads a stream from its start, recovering from panics in mscfb for
// the same reason as newReader.
func readAt(f *mscfb.File, buf []byte) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("compound file reader failed: %v", p)
		}
	}()
	n, err = f.ReadAt(buf, 0)
	if errors.Is(err, io.EOF) && n == len(buf) {
		err = nil
	}
	return n, err
}

// openStream gives a stream node's content as a reader, for data too large
// to hold in memory. The read budget is taken now, as readStream does.
func (p *parser) openStream(n *node) (func() io.Reader, error) {
	size := n.file.Size
	if size > p.size {
		return nil, fmt.Errorf("stream %s claims %d bytes in a %d-byte file", n.name, size, p.size)
	}
	if size > p.budget {
		return nil, fmt.Errorf("stream %s (%d bytes) %w", n.name, size, errTooBig)
	}
	p.budget -= size
	f := n.file
	return func() io.Reader { return &streamReader{f: f, size: size} }, nil
}

// streamReader reads a stream from its start, in order (mscfb's ReadAt
// walks the sector chain from the start at every call), recovering from
// panics in mscfb for the same reason as newReader.
type streamReader struct {
	f       *mscfb.File
	size, n int64
	started bool
}

func (r *streamReader) Read(b []byte) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("compound file reader failed: %v", p)
		}
	}()
	if !r.started {
		r.started = true
		if _, err := r.f.Seek(0, 0); err != nil {
			return 0, err
		}
	}
	if r.n >= r.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), r.size-r.n)]
	n, err = r.f.Read(b)
	r.n += int64(n)
	if errors.Is(err, io.EOF) && r.n < r.size {
		err = io.ErrUnexpectedEOF
	} else if errors.Is(err, io.EOF) {
		err = nil
	}
	if n == 0 && err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
