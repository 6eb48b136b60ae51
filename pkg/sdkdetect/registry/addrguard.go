package registry

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// An image reference names any host, and a pod author writes it: without
// a guard, a dry-run Pod naming 127.0.0.1:15001/admin:1 or
// 169.254.169.254/latest:1 makes the webhook send requests inside the
// cluster's network. Registry requests (token servers and redirects too)
// therefore connect only to public addresses, unless the host is one the
// operator listed (Options.Registries, Options.InsecureRegistries).

// Address classes refused, as they appear in operators' sentences.
const (
	classLoopback    = "loopback"
	classLinkLocal   = "link-local"
	classPrivate     = "private"
	classUnspecified = "unspecified"
	classMulticast   = "multicast"
	classReserved    = "reserved"
)

// Prefixes that netip's predicates do not cover.
var (
	cgnat      = netip.MustParsePrefix("100.64.0.0/10")  // carrier-grade NAT (RFC 6598)
	thisNet    = netip.MustParsePrefix("0.0.0.0/8")      // "this network"
	ietf       = netip.MustParsePrefix("192.0.0.0/24")   // IETF protocol assignments (some clouds' metadata)
	benchmark  = netip.MustParsePrefix("198.18.0.0/15")  // benchmarking
	reserved4  = netip.MustParsePrefix("240.0.0.0/4")    // reserved, and broadcast
	nat64      = netip.MustParsePrefix("64:ff9b::/96")   // NAT64 with an embedded IPv4 address
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48") // local-use NAT64
	sixToFour  = netip.MustParsePrefix("2002::/16")      // 6to4, with an embedded IPv4 address
)

// addressClass returns the class of a refused address ("loopback",
// "private", ...), or "" for an address registry requests may reach.
// IPv4-mapped, NAT64 and 6to4 forms are judged by the IPv4 address inside.
func addressClass(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		b := ip.As16()
		switch {
		case nat64.Contains(ip):
			return addressClass(netip.AddrFrom4([4]byte(b[12:16])))
		case sixToFour.Contains(ip):
			return addressClass(netip.AddrFrom4([4]byte(b[2:6])))
		case nat64Local.Contains(ip):
			return classPrivate
		}
	}
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), thisNet.Contains(ip):
		return classUnspecified
	case ip.IsLoopback():
		return classLoopback
	case ip.IsLinkLocalUnicast(): // 169.254/16 (cloud metadata), fe80::/10
		return classLinkLocal
	case ip.IsMulticast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return classMulticast
	case ip.IsPrivate(), cgnat.Contains(ip): // RFC 1918, fc00::/7, 100.64/10
		return classPrivate
	case ietf.Contains(ip), benchmark.Contains(ip), reserved4.Contains(ip):
		return classReserved
	}
	return ""
}

// refusedError is a connection refused by the address guard.
type refusedError struct {
	addr  string     // the host:port (or host) asked for
	host  string     // addr without the port
	ip    netip.Addr // the address it resolves to
	class string
}

func (e *refusedError) Error() string {
	if e.host == e.ip.String() {
		return fmt.Sprintf("%s is a %s address, which registry lookups do not reach unless the registry is listed", e.host, e.class)
	}
	return fmt.Sprintf("%s resolves to %s, a %s address, which registry lookups do not reach unless the registry is listed", e.host, e.ip, e.class)
}

// hostList is the set of hosts the operator listed. An entry "host:port"
// allows that port only; a bare "host" allows every port of the host.
type hostList struct {
	hosts     map[string]bool
	hostPorts map[string]bool
}

func newHostList(lists ...[]string) hostList {
	l := hostList{hosts: make(map[string]bool), hostPorts: make(map[string]bool)}
	for _, list := range lists {
		for _, h := range list {
			l.add(h)
			// Docker Hub is listed as "docker.io"; requests go to
			// index.docker.io.
			if reg, err := name.NewRegistry(h); err == nil && reg.RegistryStr() != h {
				l.add(reg.RegistryStr())
			}
		}
	}
	return l
}

func (l hostList) add(h string) {
	h = strings.ToLower(strings.TrimSpace(h))
	if host, port, err := net.SplitHostPort(h); err == nil {
		l.hostPorts[net.JoinHostPort(host, port)] = true
		return
	}
	l.hosts[strings.Trim(h, "[]")] = true
}

// allows reports whether hostport ("host:port", "[v6]:port" or a bare
// host) is listed.
func (l hostList) allows(hostport string) bool {
	hostport = strings.ToLower(hostport)
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return l.hosts[strings.Trim(hostport, "[]")]
	}
	return l.hosts[host] || l.hostPorts[net.JoinHostPort(host, port)]
}

// empty reports whether nothing is listed.
func (l hostList) empty() bool { return len(l.hosts) == 0 && len(l.hostPorts) == 0 }

// lookupFunc resolves a host name to its addresses.
type lookupFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// addrGuard refuses connections to the addresses addressClass refuses,
// for hosts that are not listed. Its dial checks the resolved addresses
// and connects to those very addresses, so that DNS rebinding (a second
// answer between the check and the connection) cannot pass it; redirects
// and token servers are dialled through it like the registry itself.
type addrGuard struct {
	listed hostList
	lookup lookupFunc
	dialer *net.Dialer

	// proxies are the addresses of the HTTP proxies requests went through
	// (from the environment): dialled without a check, since the proxy,
	// not tokenguard, connects to the registry; requests through them are
	// checked by name before they are sent (see check).
	mu      sync.Mutex
	proxies map[string]bool
}

// maxProxies bounds addrGuard.proxies; proxies come from the environment,
// so there are one or two.
const maxProxies = 16

func newAddrGuard(listed hostList, lookup lookupFunc) *addrGuard {
	// As remote.DefaultTransport dials.
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	if lookup == nil {
		lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	return &addrGuard{listed: listed, lookup: lookup, dialer: d, proxies: make(map[string]bool)}
}

// resolve returns the addresses of host, or a refusedError when one of
// them is refused. A listed host is not resolved here (nil, nil).
func (a *addrGuard) resolve(ctx context.Context, hostport string) ([]netip.Addr, error) {
	if a.listed.allows(hostport) {
		return nil, nil
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	var ips []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		ips = []netip.Addr{ip}
	} else {
		if ips, err = a.lookup(ctx, host); err != nil {
			return nil, err
		}
		if len(ips) == 0 {
			return nil, &net.DNSError{Err: "no addresses", Name: host, IsNotFound: true}
		}
	}
	// Every address must pass: a name answering both a public and a
	// private address would otherwise reach the private one on a retry.
	for _, ip := range ips {
		if class := addressClass(ip); class != "" {
			return nil, &refusedError{addr: hostport, host: host, ip: ip.Unmap(), class: class}
		}
	}
	return ips, nil
}

// DialContext is the DialContext of the registry transports.
func (a *addrGuard) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if a.isProxy(addr) || a.listed.allows(addr) {
		return a.dialer.DialContext(ctx, network, addr)
	}
	ips, err := a.resolve(ctx, addr)
	if err != nil {
		return nil, err
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var first error
	for _, ip := range ips {
		c, err := a.dialer.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// proxyFunc wraps a transport's Proxy to remember the proxies used.
func (a *addrGuard) proxyFunc(proxy func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	if proxy == nil {
		return nil
	}
	return func(req *http.Request) (*url.URL, error) {
		u, err := proxy(req)
		if u != nil && err == nil {
			a.mu.Lock()
			if len(a.proxies) < maxProxies {
				a.proxies[strings.ToLower(canonicalAddr(u))] = true
			}
			a.mu.Unlock()
		}
		return u, err
	}
}

func (a *addrGuard) isProxy(addr string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.proxies[strings.ToLower(addr)]
}

// canonicalAddr is u's host:port, with the scheme's default port.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "socks5", "socks5h":
			port = "1080"
		default:
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// sameHost reports whether two host[:port] strings name one endpoint; a
// missing port matches the default ones (80, 443).
func sameHost(a, b string) bool {
	ha, pa := splitPort(a)
	hb, pb := splitPort(b)
	if !strings.EqualFold(ha, hb) {
		return false
	}
	defaultPort := func(p string) bool { return p == "" || p == "80" || p == "443" }
	return pa == pb || defaultPort(pa) && defaultPort(pb)
}

func splitPort(hostport string) (host, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.Trim(hostport, "[]"), ""
}
