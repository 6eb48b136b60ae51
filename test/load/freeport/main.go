// Command freeport prints N free TCP ports on 127.0.0.1, one a line, for
// run.sh. The ports are bound together and released together, so they are
// distinct; another process could take one before it is used (unlikely on
// loopback within a second).
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
)

func main() {
	n := flag.Int("n", 1, "how many ports")
	flag.Parse()
	var lns []net.Listener
	for range *n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			log.Fatal(err)
		}
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
	}
}
