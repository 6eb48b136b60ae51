package pullsecrets

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"

	"github.com/tokenguard/tokenguard/pkg/kube"
)

// fakeAPI serves list and watch of secrets and service accounts of every
// namespace over HTTP on 127.0.0.1 as kube-apiserver does: field selectors
// on a secret's type, watches from a resourceVersion, and watch-list
// streams (sendInitialEvents with the initial-events-end bookmark).
type fakeAPI struct {
	t        *testing.T
	mu       sync.Mutex
	rv       int
	objects  map[string]runtime.Object // "secrets/ns/name" or "serviceaccounts/ns/name"
	watchers map[chan metav1.WatchEvent]string
	queries  []string // "resource?query" of every request
	// noWatchList refuses sendInitialEvents, as API servers without the
	// WatchList feature do: the informers must list instead.
	noWatchList bool
}

func startFakeAPI(t *testing.T, noWatchList bool) (*fakeAPI, *kube.Client) {
	a := &fakeAPI{t: t, objects: map[string]runtime.Object{}, watchers: map[chan metav1.WatchEvent]string{}, noWatchList: noWatchList}
	s := httptest.NewServer(a)
	t.Cleanup(s.Close)
	c, err := kube.NewForConfig(&rest.Config{Host: s.URL})
	if err != nil {
		t.Fatal(err)
	}
	return a, c
}

// put stores obj with the next resourceVersion and tells the watchers.
func (a *fakeAPI) put(obj runtime.Object) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.rv++
	var key, resource string
	switch o := obj.(type) {
	case *corev1.Secret:
		o.TypeMeta = metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}
		o.ResourceVersion = strconv.Itoa(a.rv)
		resource, key = "secrets", "secrets/"+o.Namespace+"/"+o.Name
	case *corev1.ServiceAccount:
		o.TypeMeta = metav1.TypeMeta{Kind: "ServiceAccount", APIVersion: "v1"}
		o.ResourceVersion = strconv.Itoa(a.rv)
		resource, key = "serviceaccounts", "serviceaccounts/"+o.Namespace+"/"+o.Name
	}
	event := "ADDED"
	if _, ok := a.objects[key]; ok {
		event = "MODIFIED"
	}
	a.objects[key] = obj
	for ch, filter := range a.watchers {
		if matches(resource, filter, obj) {
			ch <- metav1.WatchEvent{Type: event, Object: a.raw(obj)}
		}
	}
}

// matches applies the only field selector the informers send.
func matches(resource, filter string, obj runtime.Object) bool {
	r, sel, _ := strings.Cut(filter, "?")
	switch o := obj.(type) {
	case *corev1.ServiceAccount:
		return r == "serviceaccounts" && resource == r
	case *corev1.Secret:
		return r == "secrets" && resource == r && (sel == "" || sel == "type="+string(o.Type))
	}
	return false
}

func (a *fakeAPI) raw(obj any) runtime.RawExtension {
	b, err := json.Marshal(obj)
	if err != nil {
		a.t.Error(err)
	}
	return runtime.RawExtension{Raw: b}
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resource := strings.TrimPrefix(r.URL.Path, "/api/v1/")
	if resource != "secrets" && resource != "serviceaccounts" {
		a.t.Errorf("unexpected request %s", r.URL)
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	filter := resource
	if fs := q.Get("fieldSelector"); fs != "" {
		filter += "?" + fs
	}
	a.mu.Lock()
	a.queries = append(a.queries, resource+"?"+r.URL.RawQuery)
	var items []runtime.Object
	for _, k := range slices.Sorted(maps.Keys(a.objects)) {
		if matches(resource, filter, a.objects[k]) {
			items = append(items, a.objects[k])
		}
	}
	rv := strconv.Itoa(a.rv)
	w.Header().Set("Content-Type", "application/json")
	if q.Get("watch") != "true" {
		a.mu.Unlock()
		list := map[string]any{"kind": "SecretList", "apiVersion": "v1", "metadata": map[string]string{"resourceVersion": rv}, "items": items}
		if resource == "serviceaccounts" {
			list["kind"] = "ServiceAccountList"
		}
		_ = json.NewEncoder(w).Encode(list)
		return
	}
	if q.Get("sendInitialEvents") == "true" && a.noWatchList {
		a.mu.Unlock()
		w.WriteHeader(http.StatusUnprocessableEntity)
		_ = json.NewEncoder(w).Encode(&metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusFailure,
			Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid,
			Message: "ListOptions.meta.k8s.io \"\" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled"})
		return
	}
	ch := make(chan metav1.WatchEvent, 16)
	a.watchers[ch] = filter
	if q.Get("sendInitialEvents") == "true" {
		for _, o := range items {
			ch <- metav1.WatchEvent{Type: "ADDED", Object: a.raw(o)}
		}
		kind := "Secret"
		if resource == "serviceaccounts" {
			kind = "ServiceAccount"
		}
		ch <- metav1.WatchEvent{Type: "BOOKMARK", Object: a.raw(map[string]any{"kind": kind, "apiVersion": "v1",
			"metadata": map[string]any{"resourceVersion": rv, "annotations": map[string]string{metav1.InitialEventsAnnotationKey: "true"}}})}
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.watchers, ch)
		a.mu.Unlock()
	}()
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	enc := json.NewEncoder(w)
	for {
		select {
		case e := <-ch:
			if enc.Encode(&e) != nil {
				return
			}
			w.(http.Flusher).Flush()
		case <-r.Context().Done():
			return
		}
	}
}

// TestOverTheAPI runs PullSecrets on kube.Client against an HTTP API
// server: it must sync, filter secrets by type on the server, and follow
// changes through its watches; with a watch-list stream, and with an API
// server that has none (a list, then watches).
func TestOverTheAPI(t *testing.T) {
	for _, noWatchList := range []bool{false, true} {
		t.Run("noWatchList="+strconv.FormatBool(noWatchList), func(t *testing.T) { testOverTheAPI(t, noWatchList) })
	}
}

func testOverTheAPI(t *testing.T, noWatchList bool) {
	api, client := startFakeAPI(t, noWatchList)
	api.put(dockerConfigJSON("team", "regcred", "", `{"auths":{"registry.example.com":{"username":"alice","password":"old"}}}`))
	api.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "legacy"}, Type: corev1.SecretTypeDockercfg,
		Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"https://index.docker.io/v1/":{"username":"carol","password":"hub"}}`)}})
	api.put(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "opaque"}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"quay.io":{"username":"no","password":"no"}}}`)}})
	api.put(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "builder", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "legacy"}}})

	ps := New(client, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); ps.Shutdown() }()
	ps.Start(ctx)
	sctx, scancel := context.WithTimeout(ctx, 10*time.Second)
	defer scancel()
	if !ps.WaitForSync(sctx) {
		api.mu.Lock()
		defer api.mu.Unlock()
		t.Fatalf("the informers did not sync; requests: %q", api.queries)
	}

	_, kc := ps.Keychain("team", "builder", []string{"regcred", "opaque"})
	if got := resolve(t, kc, "registry.example.com/app:1"); got != "alice:old" {
		t.Errorf("pod secret: %s", got)
	}
	if got := resolve(t, kc, "nginx:1.27"); got != "carol:hub" {
		t.Errorf("service account's dockercfg secret: %s", got)
	}
	if got := resolve(t, kc, "quay.io/app:1"); got != "anonymous" {
		t.Errorf("an Opaque secret was used: %s", got)
	}
	if obj, ok, _ := ps.serviceAccount.GetByKey("team/builder"); !ok || obj.(*corev1.ServiceAccount).ManagedFields != nil {
		t.Errorf("cached service account %+v: want it, without managed fields", obj)
	}

	// One informer of service accounts and one per secret type, each with
	// its field selector; no request for secrets without one.
	api.mu.Lock()
	var selectors []string
	for _, q := range api.queries {
		if rest, ok := strings.CutPrefix(q, "secrets?"); ok {
			v, err := url.ParseQuery(rest)
			if err != nil {
				t.Fatal(err)
			}
			if sel := v.Get("fieldSelector"); !slices.Contains(selectors, sel) {
				selectors = append(selectors, sel)
			}
		}
	}
	queries := slices.Clone(api.queries)
	api.mu.Unlock()
	slices.Sort(selectors)
	if lists := slices.ContainsFunc(queries, func(q string) bool { return !strings.Contains(q, "watch=true") }); lists != noWatchList {
		t.Errorf("LIST requests sent: %v, want %v; requests %q", lists, noWatchList, queries)
	}
	if want := []string{"type=kubernetes.io/dockercfg", "type=kubernetes.io/dockerconfigjson"}; !slices.Equal(selectors, want) {
		t.Errorf("secret requests' field selectors = %q, want %q", selectors, want)
	}

	// A change reaches the keychain through the watch.
	api.put(dockerConfigJSON("team", "regcred", "", `{"auths":{"registry.example.com":{"username":"alice","password":"new"}}}`))
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, kc := ps.Keychain("team", "", []string{"regcred"})
		if resolve(t, kc, "registry.example.com/app:1") == "alice:new" {
			break
		}
		if time.Now().After(deadline) {
			api.mu.Lock()
			defer api.mu.Unlock()
			t.Fatalf("the update never reached the keychain; requests: %q", api.queries)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
