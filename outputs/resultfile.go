package outputs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// IsFolder reports whether an output path names a folder: it ends with a path separator, is an
// existing directory, or has no extension and is not a device or a pipe (/dev/stdout and
// /dev/full are written as files).
func IsFolder(spec string) bool {
	if strings.HasSuffix(spec, "/") || strings.HasSuffix(spec, string(filepath.Separator)) {
		return true
	}
	if fi, err := os.Stat(spec); err == nil {
		if fi.IsDir() {
			return true
		}
		if fi.Mode()&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe) != 0 {
			return false
		}
	}
	return filepath.Ext(spec) == ""
}

// CreateResultFile creates the file a file output writes, with its folder. A file path is created
// (or truncated). In a folder the name is `<plan>[-<i>of<n>]-YYYYMMDD-HHMMSS<ext>`, made unique
// with -2, -3, … when another run sharing the folder (a scaled worker) took it first, so a run
// never overwrites another's results. It returns the open file and its path; errors say which
// step failed and leave the caller to name the output.
func CreateResultFile(spec, ext string, opts Options) (*os.File, string, error) {
	if !IsFolder(spec) {
		if err := os.MkdirAll(filepath.Dir(spec), 0o755); err != nil {
			return nil, "", fmt.Errorf("create folder: %w", err)
		}
		f, err := os.Create(spec)
		return f, spec, err
	}
	if err := os.MkdirAll(spec, 0o755); err != nil {
		return nil, "", fmt.Errorf("create folder: %w", err)
	}
	name := opts.PlanName
	if name == "" {
		name = "loadplan"
	}
	if opts.SegmentName != "" {
		name += "-" + strings.ReplaceAll(opts.SegmentName, "/", "of")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	base := filepath.Join(spec, name+"-"+now().Format("20060102-150405"))
	for i := 1; ; i++ {
		path := base + ext
		if i > 1 {
			path = base + "-" + strconv.Itoa(i) + ext
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			return f, path, nil
		}
		if !errors.Is(err, fs.ErrExist) || i == 100 {
			return nil, "", err
		}
	}
}
