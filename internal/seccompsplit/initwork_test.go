package seccompsplit

import (
	"os"
	"runtime"
	"sync"
	"time"
)

// initLikeWork does, under an early filter, what a container's init does
// before its late one: the Go runtime starts threads (each locked
// goroutine needs one of its own), files are read and listed, a pipe
// carries a message, a timer fires.
func initLikeWork() error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread() // a thread of its own, kept to its end
			if _, err := os.ReadFile("/proc/self/status"); err != nil {
				errs <- err
				return
			}
			time.Sleep(time.Millisecond)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	if _, err := w.Write([]byte("x")); err != nil {
		return err
	}
	w.Close()
	_, err = r.Read(make([]byte, 1))
	return err
}
