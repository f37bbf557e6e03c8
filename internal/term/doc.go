// Package term makes text from pods, images and manifests safe to print
// on a terminal: a container's command or a manifest's message with ESC
// sequences in it must not retitle, clear or rewrite the terminal of the
// person running "podsec describe" (kubectl's CVE-2021-25743, fixed in
// kubernetes/kubernetes#112553 by printers.EscapeTerminal).
//
// Commands apply it where they print for people (tables, describe,
// errors), not to logs, which stay raw as kubectl logs does, nor to -o
// json and -o yaml, whose encoders escape control characters themselves.
package term
