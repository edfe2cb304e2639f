package campaigns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ImportSpool is the directory an import keeps its scratch files in (the
// uploaded file's copy, rejected rows, duplicate suspects). It holds an
// exclusive flock on its lock file from creation to Close, which the kernel
// drops when the process dies however it dies: SweepImportSpools removes the
// spools whose lock is free, and never one an import still uses.
type ImportSpool struct {
	dir  string
	lock *os.File
}

const (
	spoolPrefix = "pacer-import-"
	// A spool is made under this name and renamed once its lock is held, so
	// the sweep never sees a spool without its lock.
	spoolNewPrefix = "pacer-newspool-"
	spoolLock      = "lock"
)

// NewImportSpool creates a spool in dir (os.TempDir() when empty).
func NewImportSpool(dir string) (*ImportSpool, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	d, err := os.MkdirTemp(dir, spoolNewPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	final := filepath.Join(dir, spoolPrefix+strings.TrimPrefix(filepath.Base(d), spoolNewPrefix))
	lock, err := os.OpenFile(filepath.Join(d, spoolLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			err = os.Rename(d, final)
		}
		if err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(d)
		return nil, fmt.Errorf("import spool: %w", err)
	}
	return &ImportSpool{dir: final, lock: lock}, nil
}

// Dir is the spool's directory.
func (s *ImportSpool) Dir() string { return s.dir }

// Create makes a new file in the spool, named from pattern as os.CreateTemp.
func (s *ImportSpool) Create(pattern string) (*os.File, error) {
	return os.CreateTemp(s.dir, pattern)
}

// Close removes the spool and its files. Idempotent.
func (s *ImportSpool) Close() error {
	if s.lock == nil {
		return nil
	}
	err := os.RemoveAll(s.dir)
	s.lock.Close() // drops the flock, after the files are gone
	s.lock = nil
	return err
}

// SweepImportSpools removes from dir (os.TempDir() when empty) the spools
// of imports whose process is gone: a crash mid-import leaves the uploaded
// file's copy and the reject files behind, and nothing else would remove
// them. A live import's spool is kept. Each node sweeps its own temporary
// directory. It returns how many spools it removed.
func SweepImportSpools(dir string) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("sweep import spools: %w", err)
	}
	n := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), spoolPrefix) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		removed, err := sweepSpool(path)
		if err != nil {
			errs = append(errs, err)
		}
		if removed {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// sweepSpool removes one spool if no process holds its lock.
func sweepSpool(path string) (bool, error) {
	lock, err := os.OpenFile(filepath.Join(path, spoolLock), os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return true, os.RemoveAll(path) // not a spool NewImportSpool made
	}
	if err != nil {
		return false, fmt.Errorf("sweep import spool %s: %w", path, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false, nil // a live import's
	}
	return true, os.RemoveAll(path)
}
