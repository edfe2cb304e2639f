package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pacer-dialer/pacer/internal/leadgen"
)

func main() {
	rows := flag.Int("rows", 1000000, "data rows to write")
	seed := flag.Uint64("seed", 1, "random seed")
	dup := flag.Int("duplicate-every", 100, "every Nth row repeats an earlier number (0: none)")
	bad := flag.Int("invalid-every", 200, "every Nth row has an invalid number (0: none)")
	out := flag.String("o", "-", "output file; - for stdout")
	flag.Parse()
	w := os.Stdout
	if *out != "-" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "genleads:", err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	if err := leadgen.Write(w, leadgen.Options{Rows: *rows, Seed: *seed, DuplicateEvery: *dup, InvalidEvery: *bad}); err != nil {
		fmt.Fprintln(os.Stderr, "genleads:", err)
		os.Exit(1)
	}
}
