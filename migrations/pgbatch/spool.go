package pgbatch

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The spool: statements Stop could not write while the database was
// unreachable, one gob file per Stop, named <Name>-<UTC time>.spool so
// they sort in the order they were written. Start replays every file of its
// name before the writer takes new statements, and removes a file once all
// of it is written.

type spoolFile struct {
	Stmts []spooled
}

type spooled struct {
	SQL  string
	Args []spoolArg
}

// spoolArg is one statement argument: gob cannot carry a nil pointer in an
// interface, so each value is written as its kind and the field for it.
type spoolArg struct {
	Kind argKind
	Ptr  bool // was a pointer (nil when Kind is argNull)
	I    int64
	F    float64
	S    string
	B    bool
	T    time.Time
	U    uuid.UUID
	SS   []string
	IS   []int64
}

type argKind uint8

const (
	argNull argKind = iota
	argInt64
	argInt
	argInt32
	argFloat64
	argString
	argBool
	argTime
	argUUID
	argStrings
	argInt64s
)

func encodeArg(v any) (spoolArg, error) {
	switch x := v.(type) {
	case nil:
		return spoolArg{Kind: argNull}, nil
	case int64:
		return spoolArg{Kind: argInt64, I: x}, nil
	case int:
		return spoolArg{Kind: argInt, I: int64(x)}, nil
	case int32:
		return spoolArg{Kind: argInt32, I: int64(x)}, nil
	case float64:
		return spoolArg{Kind: argFloat64, F: x}, nil
	case string:
		return spoolArg{Kind: argString, S: x}, nil
	case bool:
		return spoolArg{Kind: argBool, B: x}, nil
	case time.Time:
		return spoolArg{Kind: argTime, T: x}, nil
	case uuid.UUID:
		return spoolArg{Kind: argUUID, U: x}, nil
	case []string:
		return spoolArg{Kind: argStrings, SS: x}, nil
	case []int64:
		return spoolArg{Kind: argInt64s, IS: x}, nil
	case *int64:
		return pointerArg(x)
	case *int:
		return pointerArg(x)
	case *float64:
		return pointerArg(x)
	case *string:
		return pointerArg(x)
	case *bool:
		return pointerArg(x)
	case *time.Time:
		return pointerArg(x)
	case *uuid.UUID:
		return pointerArg(x)
	}
	return spoolArg{}, fmt.Errorf("pgbatch: cannot spool an argument of type %T", v)
}

func pointerArg[T any](p *T) (spoolArg, error) {
	if p == nil {
		return spoolArg{Kind: argNull, Ptr: true}, nil
	}
	a, err := encodeArg(*p)
	a.Ptr = true
	return a, err
}

func (a spoolArg) value() any {
	var v any
	switch a.Kind {
	case argNull:
		return nil
	case argInt64:
		v = a.I
	case argInt:
		v = int(a.I)
	case argInt32:
		v = int32(a.I)
	case argFloat64:
		v = a.F
	case argString:
		v = a.S
	case argBool:
		v = a.B
	case argTime:
		v = a.T
	case argUUID:
		v = a.U
	case argStrings:
		return a.SS
	case argInt64s:
		return a.IS
	}
	if !a.Ptr {
		return v
	}
	switch x := v.(type) {
	case int64:
		return &x
	case int:
		return &x
	case int32:
		return &x
	case float64:
		return &x
	case string:
		return &x
	case bool:
		return &x
	case time.Time:
		return &x
	case uuid.UUID:
		return &x
	}
	return v
}

// spool writes what Stop could not send to a new spool file; without a
// spool directory, or if the file cannot be written, each statement is
// logged as lost.
func (w *Writer) spool(ops []op) {
	var f spoolFile
	var lost []op
	for _, o := range ops {
		if o.flush != nil {
			close(o.flush)
			continue
		}
		s := spooled{SQL: o.sql, Args: make([]spoolArg, len(o.args))}
		var err error
		for i, a := range o.args {
			if s.Args[i], err = encodeArg(a); err != nil {
				break
			}
		}
		if err != nil {
			w.log.Error("record cannot be spooled", "sql", firstLine(o.sql), "err", err)
			lost = append(lost, o)
			continue
		}
		f.Stmts = append(f.Stmts, s)
	}
	if len(f.Stmts) == 0 {
		w.reportLost(lost)
		return
	}
	if w.cfg.SpoolDir == "" {
		w.log.Error("database unreachable at stop and no spool directory: records lost", "statements", len(f.Stmts))
		w.reportLost(ops)
		return
	}
	name := fmt.Sprintf("%s-%s.spool", w.cfg.Name, time.Now().UTC().Format("20060102T150405.000000000"))
	path := filepath.Join(w.cfg.SpoolDir, name)
	if err := writeSpool(path, f); err != nil {
		w.log.Error("database unreachable at stop and the spool cannot be written: records lost", "err", err)
		w.reportLost(ops)
		return
	}
	w.reportLost(lost)
	w.log.Warn("database unreachable at stop; records spooled to disk for the next start", "statements", len(f.Stmts),
		"file", path)
}

func (w *Writer) reportLost(ops []op) {
	for _, o := range ops {
		if o.flush == nil {
			w.failed.Add(1)
			w.log.Error("record not written", "sql", firstLine(o.sql), "args", o.args)
		}
	}
}

// writeSpool writes f to path through a temporary file, so a crash leaves
// either the whole file or none.
func writeSpool(path string, f spoolFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".spool-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := gob.NewEncoder(tmp).Encode(f); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// replay writes every spool file of this writer, oldest first, in batches
// of MaxBatch. After each batch the file is rewritten with what is left, so
// a failed start replays nothing twice.
func (w *Writer) replay(ctx context.Context) error {
	if w.cfg.SpoolDir == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(w.cfg.SpoolDir, w.cfg.Name+"-*.spool"))
	if err != nil {
		return err
	}
	slices.Sort(files)
	for _, path := range files {
		if err := w.replayFile(ctx, path); err != nil {
			return fmt.Errorf("replay spooled %s records from %s: %w", w.cfg.Name, path, err)
		}
	}
	return nil
}

func (w *Writer) replayFile(ctx context.Context, path string) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	var f spoolFile
	err = gob.NewDecoder(r).Decode(&f)
	r.Close()
	if err != nil {
		return err
	}
	total := len(f.Stmts)
	for len(f.Stmts) > 0 {
		n := min(len(f.Stmts), w.cfg.MaxBatch)
		ops := make([]op, n)
		for i, s := range f.Stmts[:n] {
			args := make([]any, len(s.Args))
			for j, a := range s.Args {
				args[j] = a.value()
			}
			ops[i] = op{sql: s.SQL, args: args}
		}
		if left := w.send(ctx, ops); left != nil {
			return errors.Join(ctx.Err(), writeSpool(path, f))
		}
		f.Stmts = f.Stmts[n:]
		if len(f.Stmts) > 0 {
			if err := writeSpool(path, f); err != nil {
				return err
			}
		}
	}
	w.log.Info("spooled records written", "statements", total, "file", path)
	return os.Remove(path)
}
