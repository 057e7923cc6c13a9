package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/loadplan/loadplan/internal/fleet"
	"github.com/loadplan/loadplan/outputs/summary"
)

// stdin is what `loadplan merge -` reads; a variable so that a test can hand it a stream.
var stdin io.Reader = os.Stdin

// segmentInputs reads the segment summaries merge was given: "-" (standard input), files and
// folders (their files, not their subfolders). Each input is a summary's JSON
// (--segment-summary FILE) or a log stream holding summaries as log lines (--segment-summary -,
// gathered by kubectl logs or docker compose logs, other lines in between). A named file with
// neither is an error; a folder's such files are skipped with a note on stderr (a shared volume
// holds claim files and logs too). A summary the logs hold only in part is an error in the
// returned error, next to the summaries that were whole: the caller names what is missing.
func segmentInputs(paths []string, stderr io.Writer) ([]*summary.SegmentSummary, error) {
	col := fleet.NewCollector()
	var segs []*summary.SegmentSummary
	read := func(r io.Reader, name string, inFolder bool) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var jsonErr error
		if isJSON(data) {
			seg, err := summary.ReadSegment(bytes.NewReader(data))
			if err == nil {
				segs = append(segs, seg)
				return nil
			}
			jsonErr = err // a JSON log stream, perhaps: look for the lines
		}
		before := col.Lines()
		if err := col.Read(bytes.NewReader(data), name); err != nil {
			return err
		}
		if col.Lines() > before {
			return nil
		}
		why := "not a loadplan segment summary: neither its JSON (--segment-summary FILE) nor its log lines (--segment-summary -)"
		if jsonErr != nil {
			why = jsonErr.Error()
		}
		if inFolder {
			fmt.Fprintf(stderr, "loadplan merge: skipped %s: %s\n", name, why)
			return nil
		}
		return fmt.Errorf("%s: %s", name, why)
	}
	for _, p := range paths {
		if p == "-" {
			if err := read(stdin, "standard input", false); err != nil {
				return nil, err
			}
			continue
		}
		files, inFolder, err := inputFiles(p)
		if err != nil {
			return nil, err
		}
		for _, file := range files {
			f, err := os.Open(file)
			if err != nil {
				return nil, err
			}
			err = read(f, file, inFolder)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	fromLogs, err := col.Summaries()
	return append(segs, fromLogs...), err
}

// isJSON reports whether data's first non-blank byte opens a JSON object.
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}

// inputFiles is path itself, or a folder's visible regular files in name order (claim files
// left out).
func inputFiles(path string) (files []string, folder bool, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, false, fmt.Errorf("%s: no such file or folder", path)
	}
	if !st.IsDir() {
		return []string{path}, false, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, true, err
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".claim") {
			continue
		}
		files = append(files, filepath.Join(path, name))
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, true, fmt.Errorf("%s: an empty folder", path)
	}
	return files, true, nil
}

// printSkews prints each segment's start against the first segment's and the agreed start, and
// returns the summary notes for the segments that started late by a second or more.
func printSkews(w io.Writer, skews []fleet.Skew) []string {
	var notes []string
	var spread []string
	for _, s := range skews {
		item := fmt.Sprintf("%s +%v", s.Segment, s.Spread.Round(100_000))
		if s.Late != 0 {
			item += fmt.Sprintf(" (%v after the agreed start)", s.Late.Round(100_000))
		}
		spread = append(spread, item)
		if s.Late >= 1e9 {
			notes = append(notes, fmt.Sprintf("segment %s started %v after the agreed start; its figures are moved back %v to line up with the schedule",
				s.Segment, s.Late.Round(1e6), s.Shift))
		}
	}
	fmt.Fprintf(w, "loadplan merge: segment starts, from the first: %s\n", strings.Join(spread, ", "))
	return notes
}
