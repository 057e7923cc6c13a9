package outputs

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallDisk is a file on a disk with room bytes: a write that does not fit lands in part and
// fails with ENOSPC, as write(2) does on a full file system.
type smallDisk struct {
	data   []byte
	room   int
	writes int // calls to Write, so a test sees that later records are skipped
	closed bool
}

func (d *smallDisk) Write(p []byte) (int, error) {
	d.writes++
	n := min(len(p), d.room-len(d.data))
	d.data = append(d.data, p[:n]...)
	if n < len(p) {
		return n, &fs.PathError{Op: "write", Path: "/tmp/whatever", Err: syscall.ENOSPC}
	}
	return n, nil
}

func (d *smallDisk) Truncate(n int64) error { d.data = d.data[:n]; return nil }
func (d *smallDisk) Close() error           { d.closed = true; return nil }

func record(i int) []byte { return fmt.Appendf(nil, "http_reqs,%d,1,rest,hit\n", i) }

// wholeLines fails the test unless b is a run of the records 0, 1, … and returns how many.
func wholeLines(t *testing.T, b []byte) int {
	t.Helper()
	n := 0
	for len(b) > 0 {
		want := record(n)
		if !bytes.HasPrefix(b, want) {
			t.Fatalf("after %d whole records the file holds %q, want %q", n, b[:min(len(b), len(want))], want)
		}
		b = b[len(want):]
		n++
	}
	return n
}

func TestRecordWriterStickyErrorLeavesWholeRecords(t *testing.T) {
	disk := &smallDisk{room: 1000}
	w := NewRecordWriter(disk, "results/run.csv", 256)
	for i := 0; i < 500; i++ {
		w.Write(record(i))
	}
	writesAtFailure := disk.writes
	for i := 500; i < 1000; i++ {
		w.Write(record(i))
	}
	err := w.Close()
	if err == nil || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Close: %v, want ENOSPC", err)
	}
	if got, want := err.Error(), "results/run.csv: write: no space left on device — the file is incomplete"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if disk.writes != writesAtFailure {
		t.Errorf("%d writes after the failure reached the file; a failed file is written no more", disk.writes-writesAtFailure)
	}
	if !disk.closed {
		t.Error("the file was not closed")
	}
	n := wholeLines(t, disk.data) // the torn part of the last write is cut away
	if n == 0 || len(disk.data) > disk.room {
		t.Errorf("%d whole records in %d bytes of a %d-byte disk", n, len(disk.data), disk.room)
	}
	if fe := Incomplete(fmt.Errorf("output csv: %w", errors.Join(errors.New("other"), err))); len(fe) != 1 || fe[0].Path != "results/run.csv" {
		t.Errorf("Incomplete found %v", fe)
	}
}

// everyWrite records what each Write call handed to the file.
type everyWrite struct{ calls [][]byte }

func (e *everyWrite) Write(p []byte) (int, error) {
	e.calls = append(e.calls, append([]byte(nil), p...))
	return len(p), nil
}
func (e *everyWrite) Close() error { return nil }

func TestRecordWriterHandsOnlyWholeRecordsToTheFile(t *testing.T) {
	f := &everyWrite{}
	w := NewRecordWriter(f, "run.jsonl", 100)
	for i := 0; i < 300; i++ {
		w.Write(record(i))
		if i%37 == 0 {
			w.Flush()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) < 10 {
		t.Fatalf("%d writes: the limit did not flush", len(f.calls))
	}
	for i, c := range f.calls {
		if len(c) == 0 || c[len(c)-1] != '\n' {
			t.Fatalf("write %d ends inside a record: %q", i, c[max(0, len(c)-20):])
		}
	}
	if n := wholeLines(t, bytes.Join(f.calls, nil)); n != 300 {
		t.Errorf("%d records, want 300", n)
	}
}

// TestRecordWriterGzipPrefixDecodes stops writing without Close, as a killed process does: what
// reached the file decodes to whole records, up to the last flush.
func TestRecordWriterGzipPrefixDecodes(t *testing.T) {
	f := &everyWrite{}
	w := NewRecordWriter(f, "run.csv.gz", 1000)
	for i := 0; i < 500; i++ {
		w.Write(record(i))
	}
	w.Flush()
	for i := 500; i < 510; i++ { // pending, never flushed: lost with the process
		w.Write(record(i))
	}
	zr, err := gzip.NewReader(bytes.NewReader(bytes.Join(f.calls, nil)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading the prefix: %v, want unexpected EOF (no trailer)", err)
	}
	if n := wholeLines(t, got); n != 500 {
		t.Errorf("%d records decoded, want the 500 flushed", n)
	}
}

// TestRecordWriterOSFaults writes to /dev/full (ENOSPC on every write) and to a closed file.
func TestRecordWriterOSFaults(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("/dev/full: %v", err)
	}
	w := NewRecordWriter(full, "/dev/full", 64)
	w.Write(record(0))
	if err := w.Flush(); !errors.Is(err, syscall.ENOSPC) || err.Error() != "/dev/full: write: no space left on device — the file is incomplete" {
		t.Errorf("/dev/full: %v", err)
	}
	if err := w.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close after the failure: %v, want the first error", err)
	}

	path := filepath.Join(t.TempDir(), "run.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	w = NewRecordWriter(f, path, 64)
	w.Write(record(0))
	if err := w.Close(); !errors.Is(err, os.ErrClosed) || !strings.HasPrefix(err.Error(), path+": write: ") {
		t.Errorf("closed file: %v", err)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deep", "summary.json")
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{}\n" {
		t.Errorf("%s holds %q", path, b)
	}
	err := WriteFile("/dev/full", func(w io.Writer) error { _, err := io.WriteString(w, "{}\n"); return err })
	if fe := Incomplete(err); len(fe) != 1 || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("/dev/full: %v", err)
	}
}

// BenchmarkRecordWriter is the cost per CSV-sized row of the whole-record writer.
func BenchmarkRecordWriter(b *testing.B) {
	w := NewRecordWriter(nopFile{bufio.NewWriter(io.Discard)}, "bench.csv", 256<<10)
	row := record(123456)
	b.SetBytes(int64(len(row)))
	for b.Loop() {
		w.Write(row)
	}
}

type nopFile struct{ io.Writer }

func (nopFile) Close() error { return nil }
