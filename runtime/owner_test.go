package runtime

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// dyingArg makes the test binary a process that tells its start time on
// fd 3 and SIGKILLs itself, as a failpoint kills a supervisor.
const dyingArg = "podsec-test-die"

func init() {
	if len(os.Args) > 1 && os.Args[1] == dyingArg {
		for i := 0; i < 4; i++ {
			go func() {
				for {
				}
			}()
		}
		o, err := SelfOwner()
		if err != nil {
			os.Exit(3)
		}
		os.NewFile(3, "owner").WriteString(strconv.FormatUint(o.StartTime, 10))
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

// TestOwnerDyingNotAlive: once a killed owner's files are closed (the
// end of `podsec run -d`'s wait for its supervisor), it is not alive, even
// in the moment before it becomes a zombie. (Before PF_EXITING was read,
// about one in thirty of these found it "R", running, and `get pods`
// showed a pod whose supervisor died as ContainerCreating.)
func TestOwnerDyingNotAlive(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 150; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		c := exec.Command(self, dyingArg)
		c.ExtraFiles = []*os.File{w}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		b, _ := io.ReadAll(r) // EOF: every file of the process is closed
		r.Close()
		st, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			c.Wait()
			t.Fatalf("child said %q", b)
		}
		alive := Owner{PID: c.Process.Pid, StartTime: st}.Alive()
		c.Wait()
		if alive {
			t.Fatalf("iteration %d: a SIGKILLed owner whose files are closed is alive", i)
		}
	}
}
