// Command attacker runs one attack from inside a container, for podsec's
// attack suite. It is built static (CGO_ENABLED=0) and mounted read-only at
// /attacker in the pods the suite runs.
//
//	attacker SUBCOMMAND [ARGS...]
//
// A subcommand that succeeds prints "OK <name>" and exits 0; one that
// fails prints "FAIL <name>: <error>" and exits 1. Each file registers its
// own subcommands, so the attack classes stay apart.
package main

import (
	"fmt"
	"os"
	"sort"
)

var commands = map[string]func(args []string) error{}

// register adds a subcommand; a duplicate name is a programming error.
func register(name string, fn func(args []string) error) {
	if _, dup := commands[name]; dup {
		panic("attacker: duplicate subcommand " + name)
	}
	commands[name] = fn
}

func main() {
	if len(os.Args) < 2 {
		names := make([]string, 0, len(commands))
		for n := range commands {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "usage: attacker SUBCOMMAND [ARGS...]\nsubcommands: %v\n", names)
		os.Exit(2)
	}
	name := os.Args[1]
	fn, ok := commands[name]
	if !ok {
		fmt.Printf("FAIL %s: no such subcommand\n", name)
		os.Exit(2)
	}
	if err := fn(os.Args[2:]); err != nil {
		fmt.Printf("FAIL %s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Printf("OK %s\n", name)
}
