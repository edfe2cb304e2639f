package sipptest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pacer-dialer/pacer/internal/testport"
	"github.com/pacer-dialer/pacer/internal/testwait"
)

// Need skips t, loudly, when sipp is not installed.
func Need(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("SKIPPED: sipp is not on PATH (install the Debian package sip-tester); the SIP tests need a real SIP peer")
	}
	return path
}

// FreeUDPPort returns a loopback UDP port that was free a moment ago (and
// whose TCP twin was free too, since sipp may open both).
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return testport.UDPAndTCP(t)
}

// FreeMediaPortBeside is FreeMediaPort for a sipp whose -p is sipPort:
// none of the media ports sipp binds (-mp to -mp+3) is sipPort.
func FreeMediaPortBeside(t testing.TB, sipPort int) int {
	t.Helper()
	for {
		if mp := FreeMediaPort(t); sipPort < mp || sipPort > mp+3 {
			return mp
		}
	}
}

// FreeMediaPort returns an even loopback UDP port with its odd neighbour
// free, for sipp's -mp (it uses port and port+2 for audio and video).
func FreeMediaPort(t testing.TB) int {
	t.Helper()
	return testport.Media(t)
}

// Options starts one sipp.
type Options struct {
	// Scenario is the path of the XML scenario (-sf).
	Scenario string
	// Calls is -m: sipp exits after this many calls (required, so every
	// sipp ends by itself).
	Calls int
	// Remote is the host:port sipp sends to (a UAC scenario's target); empty
	// for a UAS.
	Remote string
	// IP is the loopback address sipp's SIP socket binds (-i; default
	// 127.0.0.1).
	IP string
	// Port and MediaPort are -p and -mp when a test needs them fixed (a
	// phone called at a known port, or again at the port it registered
	// from); 0 picks free ones.
	Port, MediaPort int
	// Args are more arguments (-r, -rp, -l, -d, -key name value ...).
	Args []string
}

// Sipp is one running sipp process.
type Sipp struct {
	// Port is the loopback UDP port sipp listens on; Addr is IP:Port.
	Port int
	Addr string
	// MediaPort is sipp's -mp (its [media_port] in SDP).
	MediaPort int

	dir    string
	cmd    *exec.Cmd
	out    bytes.Buffer
	done   chan struct{}
	mu     sync.Mutex
	code   int
	runErr error
}

// Start runs sipp with o on loopback and, for a UAS (no Remote), returns
// once its SIP socket is bound, so the first request sent to it is not lost.
func Start(t testing.TB, o Options) *Sipp {
	t.Helper()
	// A port found free can be taken by another test before sipp binds it:
	// then sipp exits at once and we start it again on other ports.
	for attempt := 1; ; attempt++ {
		s := start(t, o)
		if o.Remote != "" || s.waitBound(t) {
			return s
		}
		if attempt == 10 || !strings.Contains(s.out.String(), "Unable to bind") {
			require.FailNow(t, "sipp exited before it listened", "%s", s.out.String())
		}
		if o.Port != 0 {
			// The port is the test's to reuse (a phone back on the port it
			// left) and something still held it: start again once it is
			// free (seen in CI right after a stand-in let it go).
			testwait.Until(t, func() bool { return testport.UDPFree(o.Port) }, "sipp's port %d is free again", o.Port)
		}
	}
}

func start(t testing.TB, o Options) *Sipp {
	t.Helper()
	bin := Need(t)
	require.Positive(t, o.Calls, "sipptest: Calls (-m) is required")
	scen, err := filepath.Abs(o.Scenario)
	require.NoError(t, err)
	s := &Sipp{dir: t.TempDir(), done: make(chan struct{})}
	ip := o.IP
	if ip == "" {
		ip = "127.0.0.1"
	}
	s.Port, s.MediaPort = o.Port, o.MediaPort
	// sipp binds -mp and -mp+2 (audio, video) besides -p: ports chosen
	// here must not land on each other.
	clash := func() bool { return s.Port >= s.MediaPort && s.Port <= s.MediaPort+3 }
	for s.Port == 0 || (o.Port == 0 && s.MediaPort != 0 && clash()) {
		s.Port = FreeUDPPort(t)
	}
	for s.MediaPort == 0 || (o.MediaPort == 0 && clash()) {
		s.MediaPort = FreeMediaPort(t)
	}
	require.False(t, clash(), "sipptest: -p %d falls on the media ports of -mp %d", s.Port, s.MediaPort)
	s.Addr = ip + ":" + strconv.Itoa(s.Port)
	args := []string{"-sf", scen, "-i", ip, "-p", strconv.Itoa(s.Port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(s.MediaPort),
		"-m", strconv.Itoa(o.Calls), "-nostdin", "-trace_stat", "-stf", filepath.Join(s.dir, "stat.csv"), "-fd", "1",
		"-trace_err", "-error_file", filepath.Join(s.dir, "err.log"), "-timeout_error", "-max_recv_loops", "1000"}
	args = append(args, o.Args...)
	if o.Remote != "" {
		args = append(args, o.Remote)
	}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout = &s.out
	s.cmd.Stderr = &s.out
	require.NoError(t, s.cmd.Start(), "start sipp")
	go func() {
		err := s.cmd.Wait()
		s.mu.Lock()
		s.runErr = err
		s.code = s.cmd.ProcessState.ExitCode()
		s.mu.Unlock()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("sipp %s output:\n%s", filepath.Base(scen), s.out.String())
			if b, err := os.ReadFile(filepath.Join(s.dir, "err.log")); err == nil {
				t.Logf("sipp errors:\n%s", b)
			}
		}
	})
	return s
}

// waitBound waits until sipp holds its port, UDP or TCP (binding it
// ourselves fails): false if sipp exited first.
func (s *Sipp) waitBound(t testing.TB) bool {
	t.Helper()
	for {
		select {
		case <-s.done:
			return false
		default:
		}
		c, err := net.ListenPacket("udp4", s.Addr)
		if err != nil {
			return true
		}
		c.Close()
		l, err := net.Listen("tcp4", s.Addr)
		if err != nil {
			return true
		}
		l.Close()
		select {
		case <-s.done:
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Done is closed when sipp has exited.
func (s *Sipp) Done() <-chan struct{} { return s.done }

// ExitCode is sipp's exit code once Done is closed: 0 when every call
// succeeded, 1 when at least one failed, higher on a fatal error.
func (s *Sipp) ExitCode() int {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.code
}

// Output is what sipp printed (useful in failure messages).
func (s *Sipp) Output() string {
	<-s.done
	return s.out.String()
}

// Stats are the cumulative counters of sipp's last -trace_stat line.
type Stats struct {
	Successful, Failed int
	Raw                map[string]string
}

// Stats reads the last line of the -trace_stat file (after Done).
func (s *Sipp) Stats() (Stats, error) {
	<-s.done
	f, err := os.Open(filepath.Join(s.dir, "stat.csv"))
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = ';'
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return Stats{}, fmt.Errorf("read sipp stats: %w", err)
	}
	if len(recs) < 2 {
		return Stats{}, fmt.Errorf("sipp wrote no statistics")
	}
	head, last := recs[0], recs[len(recs)-1]
	st := Stats{Raw: map[string]string{}}
	for i, h := range head {
		if i < len(last) {
			st.Raw[strings.TrimSpace(h)] = strings.TrimSpace(last[i])
		}
	}
	st.Successful, _ = strconv.Atoi(st.Raw["SuccessfulCall(C)"])
	st.Failed, _ = strconv.Atoi(st.Raw["FailedCall(C)"])
	return st, nil
}
