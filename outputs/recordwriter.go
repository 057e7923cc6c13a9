package outputs

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FileError says that a result file could not be written completely: the disk filled up, the
// device failed, the file was closed under the writer. A run with one is a failed run (exit 1):
// CI must not consume a torn file as if it were whole. The message names the file and the cause:
//
//	results/run.csv: write: no space left on device — the file is incomplete
type FileError struct {
	Path string // the file as configured or named in its folder
	Op   string // "write", "close", "stop", …
	Err  error  // the cause; errors.Is(err, syscall.ENOSPC) sees through
}

// Error implements error.
func (e *FileError) Error() string {
	what := " — the file is incomplete"
	switch e.Op {
	case "open", "mkdir", "create":
		what = " — the file was not written"
	}
	return e.Path + ": " + e.Op + ": " + e.Err.Error() + what
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// NewFileError returns the FileError of path; op names the step that failed, unless err is an
// *fs.PathError, whose operation and bare cause are kept (its message would repeat the path).
func NewFileError(path, op string, err error) *FileError {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		op, err = pe.Op, pe.Err
	}
	return &FileError{Path: path, Op: op, Err: err}
}

// Incomplete returns every *FileError in err's tree (errors.Join and %w wrapping), in order.
func Incomplete(err error) []*FileError {
	var out []*FileError
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
		case *FileError:
			out = append(out, e)
		case interface{ Unwrap() []error }:
			for _, x := range e.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(e.Unwrap())
		}
	}
	walk(err)
	return out
}

// RecordWriter writes a result file in whole records (CSV rows, JSON lines): records collect in
// memory and reach the file only as a run of complete records, so the OS never holds part of a
// line, and a killed process leaves only whole lines. (bufio.Writer flushes a full buffer at
// any byte, which tore the last line of a killed run.) A gzip file is compressed in memory and
// flushed (a sync flush) at the same record boundaries, so any prefix the file holds decodes to
// whole records.
//
// Errors are sticky: the first is kept as a *FileError, the file is cut back to the last record
// boundary (a short write on a full disk leaves no torn line), and later records are dropped
// at the cost of a comparison. Err lets a writer skip encoding altogether.
//
// One caveat outside our reach: Linux may end a write(2) early when SIGKILL arrives while it
// copies pages, so a kill during a flush can still cut its last record.
//
// A RecordWriter is owned by one goroutine.
type RecordWriter struct {
	path  string
	f     io.WriteCloser
	gz    *gzip.Writer // nil unless the file ends in .gz; compresses into zbuf
	zbuf  bytes.Buffer
	buf   []byte // whole records not yet in the file
	limit int    // flush when buf reaches it
	off   int64  // bytes in the file, all ending on a record boundary
	err   *FileError
}

// NewRecordWriter writes to f (named path in messages), flushing once limit bytes of records
// are pending. A path ending in ".gz" is compressed.
func NewRecordWriter(f io.WriteCloser, path string, limit int) *RecordWriter {
	w := &RecordWriter{path: path, f: f, limit: limit, buf: make([]byte, 0, limit+limit/8)}
	if filepath.Ext(path) == ".gz" {
		w.gz = gzip.NewWriter(&w.zbuf)
	}
	return w
}

// Path returns the file's name.
func (w *RecordWriter) Path() string { return w.path }

// Err returns the first error, a *FileError, or nil.
func (w *RecordWriter) Err() error {
	if w.err == nil {
		return nil
	}
	return w.err
}

// Write adds whole records (each ending in a newline) to the file. It never fails: a failure is
// kept for Err, Flush and Close.
func (w *RecordWriter) Write(records []byte) {
	if w.err != nil {
		return
	}
	w.buf = append(w.buf, records...)
	if len(w.buf) >= w.limit {
		w.Flush()
	}
}

// Flush hands the pending records to the file in one write and returns the first error.
func (w *RecordWriter) Flush() error {
	if w.err != nil || len(w.buf) == 0 {
		w.buf = w.buf[:0]
		return w.Err()
	}
	out := w.buf
	if w.gz != nil {
		// Into a bytes.Buffer: these cannot fail.
		w.gz.Write(w.buf)
		w.gz.Flush()
		out = w.zbuf.Bytes()
	}
	w.put(out)
	w.buf = w.buf[:0]
	w.zbuf.Reset()
	return w.Err()
}

// put writes b, which ends on a record boundary; on failure it keeps the error and cuts the
// file back to the last boundary.
func (w *RecordWriter) put(b []byte) {
	if len(b) == 0 {
		return
	}
	n, err := w.f.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = NewFileError(w.path, "write", err)
		if t, ok := w.f.(interface{ Truncate(int64) error }); ok && n > 0 {
			t.Truncate(w.off) // best effort: a device such as /dev/full cannot be truncated
		}
		return
	}
	w.off += int64(n)
}

// Close flushes, ends a gzip stream and closes the file. It returns the first error of the
// file's whole life, a *FileError, or nil.
func (w *RecordWriter) Close() error {
	w.Flush()
	if w.gz != nil && w.err == nil {
		w.gz.Close() // the last block and the trailer, into zbuf
		w.put(w.zbuf.Bytes())
		w.zbuf.Reset()
	}
	if err := w.f.Close(); err != nil && w.err == nil {
		w.err = NewFileError(w.path, "close", err)
	}
	return w.Err()
}

// WriteFile writes the file path (creating its folder) with the bytes write produces, in one
// write: a failure leaves an empty file, never a torn one. An error of write itself is returned
// as it is; every other is a *FileError.
func WriteFile(path string, write func(io.Writer) error) error {
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return NewFileError(path, "mkdir", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return NewFileError(path, "create", err)
	}
	// Not NewRecordWriter: the bytes are the file's as they are, whatever its name ends in.
	w := &RecordWriter{path: path, f: f, buf: b.Bytes()}
	w.Flush()
	return w.Close()
}

// Staller is implemented by the file outputs (csv, json), whose bounded queue makes Emit wait
// when the disk is slower than the load rather than grow without limit or drop rows. Stalls
// returns how many Emits waited and how long in all; the run's summary says every non-zero
// count, since the waits slowed the load.
type Staller interface {
	Stalls() (n uint64, waited time.Duration)
}
