// Package abuse is podsec's abuse suite, beside the attack suite
// (test/attack): a runaway or hostile pod, image or request must not
// exhaust the node. Each test drives the real binaries through
// test/harness, fails on the code before the limit it guards, and stays
// within bounds that keep the machine usable (disk under 1 GB, memory
// under 2 GiB, PIDs under 10k).
package abuse
