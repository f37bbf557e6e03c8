// Package logs writes and reads container logs in the CRI log format, the
// format containerd and CRI-O write and the kubelet reads for `kubectl logs`.
//
// Each record is one line:
//
//	<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n
//
// A line of output longer than the maximum line size (16 KiB, containerd's
// default max_container_log_line_size) is split into records tagged P
// (partial) with the last tagged F (full). Output still without a newline when
// the writer closes is written tagged P, as containerd does at EOF, so a
// reader shows it without inventing a newline.
//
// The Writer rotates the file as the kubelet's container log manager does:
// past MaxSize the file is renamed to <path>.<YYYYMMDD-hhmmss> and the oldest
// rotated files beyond MaxFiles (counting the current file) are removed.
// Rotated files are not compressed.
//
// Read prints the records as the kubelet does for `kubectl logs`, with tail,
// since, timestamps, byte limit and follow, reading rotated files too.
package logs
