package probe

import (
	"context"
	"errors"
	"fmt"
)

// doExec runs the command through t.Exec: exit 0 passes, any other exit
// fails with the output, and a command still running at the timeout fails,
// as the kubelet does since exec probe timeouts are enforced (1.20).
func doExec(ctx context.Context, cmd []string, t Target) (Result, string) {
	if t.Exec == nil {
		return Unknown, "exec probes need a running container"
	}
	if len(cmd) == 0 {
		return Unknown, "exec probe has no command"
	}
	type done struct {
		code int
		out  []byte
		err  error
	}
	ch := make(chan done, 1) // an Exec ignoring ctx must not leak a blocked send
	go func() {
		code, out, err := t.Exec(ctx, cmd)
		ch <- done{code, out, err}
	}()
	select {
	case d := <-ch:
		switch {
		case d.err != nil && errors.Is(d.err, context.DeadlineExceeded),
			d.err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
			return Failure, fmt.Sprintf("command %q timed out", cmd)
		case d.err != nil:
			return Unknown, fmt.Sprintf("running %q: %v", cmd, d.err)
		case d.code != 0:
			return Failure, truncate(d.out)
		}
		return Success, truncate(d.out)
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return Failure, fmt.Sprintf("command %q timed out", cmd)
		}
		return Unknown, fmt.Sprintf("running %q: %v", cmd, ctx.Err())
	}
}
