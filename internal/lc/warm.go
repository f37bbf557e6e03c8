package lc

import "encoding/json"

// WarmJSON builds, in the background, encoding/json's encoders of the
// types of vs. Building one walks its type graph by reflection (a
// libcontainer configuration, which libcontainer encodes into the
// container's state and the init's configuration, takes a few
// milliseconds), which the first encoding would otherwise spend on a
// container's critical path; callers start it while they do other work
// (reading the spec, waiting for a sandbox). json's type cache is safe
// for concurrent use.
func WarmJSON(vs ...any) {
	go func() {
		for _, v := range vs {
			_, _ = json.Marshal(v)
		}
	}()
}
