package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

type result struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	Goal    string `json:"goal"`
	Met     *bool  `json:"met"`
	When    string `json:"when"`
	CPUs    int    `json:"cpus"`
}

const (
	startMarker = "<!-- bench:start -->"
	endMarker   = "<!-- bench:end -->"
)

func main() {
	if err := run("bench/results", "README.md"); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run(dir, readme string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	var rs []result
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		var r result
		if err := json.Unmarshal(b, &r); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		rs = append(rs, r)
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
	var t strings.Builder
	t.WriteString(startMarker + "\n")
	t.WriteString("| benchmark | result | goal | measured |\n|---|---|---|---|\n")
	for _, r := range rs {
		goal := r.Goal
		if r.Met != nil {
			if *r.Met {
				goal += " (met)"
			} else {
				goal += " (**not met**)"
			}
		}
		fmt.Fprintf(&t, "| `%s` | %s | %s | %s, %d cores |\n", r.Name, r.Summary, goal, strings.TrimSuffix(r.When, "Z"), r.CPUs)
	}
	t.WriteString(endMarker)
	body, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	s := string(body)
	i, j := strings.Index(s, startMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %s … %s section", readme, startMarker, endMarker)
	}
	s = s[:i] + t.String() + s[j+len(endMarker):]
	return os.WriteFile(readme, []byte(s), 0o644)
}
