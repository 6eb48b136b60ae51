package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// apiServer is an HTTP server on 127.0.0.1 that answers each request with
// the handler registered for its path, recording what was asked.
type apiServer struct {
	*httptest.Server
	mu       sync.Mutex
	handlers map[string]http.HandlerFunc
	requests []*http.Request
}

func newAPIServer(t *testing.T) *apiServer {
	t.Helper()
	s := &apiServer{handlers: map[string]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r)
		h := s.handlers[r.URL.Path]
		s.mu.Unlock()
		if h == nil {
			writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
			return
		}
		h(w, r)
	}))
	if host, _, _ := net.SplitHostPort(s.Listener.Addr().String()); host != "127.0.0.1" {
		t.Fatalf("test server on %s, want 127.0.0.1", host)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) handle(path string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[path] = h
}

// last is the last request's path and query.
func (s *apiServer) last(t *testing.T) (string, url.Values) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("no request reached the server")
	}
	r := s.requests[len(s.requests)-1]
	return r.URL.Path, r.URL.Query()
}

func (s *apiServer) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewForConfig(&rest.Config{Host: s.URL, UserAgent: "tokenguard/test", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	writeJSON(w, code, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: int32(code), Reason: reason, Message: msg,
	})
}

// wantQuery fails unless q holds exactly want.
func wantQuery(t *testing.T, q url.Values, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for k := range q {
		got[k] = q.Get(k)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("query = %v, want %v", got, want)
	}
}

func TestListPods(t *testing.T) {
	s := newAPIServer(t)
	var agent string
	s.handle("/api/v1/namespaces/team/pods", func(w http.ResponseWriter, r *http.Request) {
		agent = r.UserAgent()
		if r.Method != http.MethodGet || !strings.Contains(r.Header.Get("Accept"), "application/json") {
			t.Errorf("%s with Accept %q, want a GET of JSON", r.Method, r.Header.Get("Accept"))
		}
		writeJSON(w, 200, &corev1.PodList{
			TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "page-3"},
			Items: []corev1.Pod{{
				ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "web-1", UID: "u1",
					OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "web-7f", UID: "rs1"}}},
				Spec: corev1.PodSpec{ServiceAccountName: "web", ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
					Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/web:1.2"}}},
			}},
		})
	})
	l, err := s.client(t).ListPods(context.Background(), "team", metav1.ListOptions{
		LabelSelector: "app=web", FieldSelector: "status.phase=Running", Limit: 2, Continue: "page-2"})
	if err != nil {
		t.Fatal(err)
	}
	path, q := s.last(t)
	if path != "/api/v1/namespaces/team/pods" {
		t.Errorf("path %s", path)
	}
	wantQuery(t, q, map[string]string{"labelSelector": "app=web", "fieldSelector": "status.phase=Running", "limit": "2", "continue": "page-2"})
	if agent != "tokenguard/test" {
		t.Errorf("User-Agent %q, want tokenguard/test", agent)
	}
	if l.Continue != "page-3" || l.ResourceVersion != "42" || len(l.Items) != 1 {
		t.Fatalf("list = %+v", l)
	}
	p := l.Items[0]
	if p.Name != "web-1" || p.Namespace != "team" || p.Spec.ServiceAccountName != "web" || p.Spec.Containers[0].Image != "registry.example.com/web:1.2" ||
		p.Spec.ImagePullSecrets[0].Name != "regcred" || metav1.GetControllerOf(&p) != nil || p.OwnerReferences[0].UID != "rs1" {
		t.Errorf("decoded pod = %+v", p)
	}
}

func TestListAllNamespacesAndGroups(t *testing.T) {
	s := newAPIServer(t)
	s.handle("/api/v1/pods", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, &corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"},
			Items: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "p"}}, {ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "q"}}}})
	})
	s.handle("/apis/apps/v1/namespaces/apps/replicasets", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, &appsv1.ReplicaSetList{TypeMeta: metav1.TypeMeta{Kind: "ReplicaSetList", APIVersion: "apps/v1"},
			Items: []appsv1.ReplicaSet{{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "web-7f", UID: "rs1",
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web", Controller: new(true)}}}}}})
	})
	s.handle("/apis/batch/v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, &batchv1.JobList{TypeMeta: metav1.TypeMeta{Kind: "JobList", APIVersion: "batch/v1"},
			Items: []batchv1.Job{{ObjectMeta: metav1.ObjectMeta{Namespace: "apps", Name: "nightly-1",
				OwnerReferences: []metav1.OwnerReference{{Kind: "CronJob", Name: "nightly", Controller: new(true)}}}}}})
	})
	c := s.client(t)
	ctx := context.Background()

	pods, err := c.ListPods(ctx, "", metav1.ListOptions{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if path, q := s.last(t); path != "/api/v1/pods" || q.Get("limit") != "500" || q.Has("continue") {
		t.Errorf("pods of all namespaces: %s?%s", path, q.Encode())
	}
	if len(pods.Items) != 2 || pods.Items[1].Namespace != "b" {
		t.Errorf("pods = %+v", pods.Items)
	}

	rs, err := c.ListReplicaSets(ctx, "apps", metav1.ListOptions{Limit: 500, Continue: "next"})
	if err != nil {
		t.Fatal(err)
	}
	if _, q := s.last(t); q.Get("continue") != "next" {
		t.Errorf("replicasets: query %s", q.Encode())
	}
	if len(rs.Items) != 1 || metav1.GetControllerOf(&rs.Items[0]).Name != "web" || rs.Items[0].UID != "rs1" {
		t.Errorf("replicasets = %+v", rs.Items)
	}

	jobs, err := c.ListJobs(ctx, "", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if path, q := s.last(t); path != "/apis/batch/v1/jobs" || len(q) != 0 {
		t.Errorf("jobs: %s?%s", path, q.Encode())
	}
	if len(jobs.Items) != 1 || metav1.GetControllerOf(&jobs.Items[0]).Kind != "CronJob" {
		t.Errorf("jobs = %+v", jobs.Items)
	}
}

// watchStream answers a watch with events, one JSON object a line, then
// waits for the client to go away.
func watchStream(t *testing.T, events ...watch.Event) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		enc := json.NewEncoder(w)
		for _, e := range events {
			if err := enc.Encode(&metav1.WatchEvent{Type: string(e.Type), Object: runtimeRaw(t, e.Object)}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	}
}

func TestSecretsListAndWatch(t *testing.T) {
	s := newAPIServer(t)
	secret := func(name, rv, user string) *corev1.Secret {
		return &corev1.Secret{
			TypeMeta:   metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, ResourceVersion: rv},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"r.example.com":{"username":"` + user + `"}}}`)},
		}
	}
	s.handle("/api/v1/secrets", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			bookmark := &corev1.Secret{TypeMeta: metav1.TypeMeta{Kind: "Secret", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{ResourceVersion: "9"}}
			watchStream(t,
				watch.Event{Type: watch.Modified, Object: secret("regcred", "8", "bob")},
				watch.Event{Type: watch.Bookmark, Object: bookmark},
				watch.Event{Type: watch.Deleted, Object: secret("regcred", "9", "bob")},
			)(w, r)
			return
		}
		writeJSON(w, 200, &corev1.SecretList{TypeMeta: metav1.TypeMeta{Kind: "SecretList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []corev1.Secret{*secret("regcred", "7", "alice")}})
	})
	c := s.client(t)
	ctx := context.Background()
	const selector = "type=kubernetes.io/dockerconfigjson"

	l, err := c.ListSecrets(ctx, "", metav1.ListOptions{FieldSelector: selector, ResourceVersion: "0", Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	_, q := s.last(t)
	wantQuery(t, q, map[string]string{"fieldSelector": selector, "resourceVersion": "0", "limit": "500"})
	if len(l.Items) != 1 || l.ResourceVersion != "7" || !strings.Contains(string(l.Items[0].Data[corev1.DockerConfigJsonKey]), "alice") ||
		l.Items[0].Type != corev1.SecretTypeDockerConfigJson {
		t.Fatalf("list = %+v", l)
	}

	timeout := int64(300)
	w, err := c.WatchSecrets(ctx, "", metav1.ListOptions{FieldSelector: selector, ResourceVersion: "7", AllowWatchBookmarks: true, TimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	path, q := s.last(t)
	if path != "/api/v1/secrets" {
		t.Errorf("watch path %s", path)
	}
	wantQuery(t, q, map[string]string{"watch": "true", "fieldSelector": selector, "resourceVersion": "7",
		"allowWatchBookmarks": "true", "timeoutSeconds": "300", "timeout": "5m0s"})
	var got []string
	for len(got) < 3 {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch ended after %q", got)
			}
			s, isSecret := e.Object.(*corev1.Secret)
			if !isSecret {
				t.Fatalf("event %s carries a %T, want *v1.Secret", e.Type, e.Object)
			}
			got = append(got, fmt.Sprintf("%s %s@%s %s", e.Type, s.Name, s.ResourceVersion, s.Data[corev1.DockerConfigJsonKey]))
		case <-time.After(10 * time.Second):
			t.Fatalf("events so far %q; the rest never came", got)
		}
	}
	want := []string{
		`MODIFIED regcred@8 {"auths":{"r.example.com":{"username":"bob"}}}`,
		`BOOKMARK @9 `,
		`DELETED regcred@9 {"auths":{"r.example.com":{"username":"bob"}}}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
}

func TestServiceAccountsListAndWatch(t *testing.T) {
	s := newAPIServer(t)
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{Kind: "ServiceAccount", APIVersion: "v1"},
		ObjectMeta:       metav1.ObjectMeta{Namespace: "team", Name: "builder", ResourceVersion: "3"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
	s.handle("/api/v1/namespaces/team/serviceaccounts", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			watchStream(t, watch.Event{Type: watch.Added, Object: sa})(w, r)
			return
		}
		writeJSON(w, 200, &corev1.ServiceAccountList{TypeMeta: metav1.TypeMeta{Kind: "ServiceAccountList", APIVersion: "v1"},
			ListMeta: metav1.ListMeta{ResourceVersion: "3"}, Items: []corev1.ServiceAccount{*sa}})
	})
	c := s.client(t)
	l, err := c.ListServiceAccounts(context.Background(), "team", metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Items) != 1 || l.Items[0].ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("list = %+v", l)
	}
	w, err := c.WatchServiceAccounts(context.Background(), "team", metav1.ListOptions{ResourceVersion: "3"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	_, q := s.last(t)
	wantQuery(t, q, map[string]string{"watch": "true", "resourceVersion": "3"})
	select {
	case e := <-w.ResultChan():
		if got, ok := e.Object.(*corev1.ServiceAccount); e.Type != watch.Added || !ok || got.Name != "builder" || got.ImagePullSecrets[0].Name != "regcred" {
			t.Errorf("event %s %+v", e.Type, e.Object)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
}

func TestServerVersion(t *testing.T) {
	s := newAPIServer(t)
	s.handle("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2"})
	})
	info, err := s.client(t).ServerVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.GitVersion != "v1.37.2" || info.Minor != "37" {
		t.Errorf("version = %+v", info)
	}
}

func TestErrorsNameTheRequest(t *testing.T) {
	s := newAPIServer(t)
	s.handle("/api/v1/namespaces/team/pods", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden,
			`pods is forbidden: User "system:serviceaccount:tokenguard:tokenguard" cannot list resource "pods" in API group "" in the namespace "team"`)
	})
	s.handle("/apis/apps/v1/replicasets", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>a proxy's login page</html>"))
	})
	s.handle("/api/v1/secrets", func(w http.ResponseWriter, r *http.Request) {
		writeStatus(w, http.StatusForbidden, metav1.StatusReasonForbidden, `secrets is forbidden: User "x" cannot watch resource "secrets"`)
	})
	s.handle("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []string{"not", "a", "version"})
	})
	c := s.client(t)
	ctx := context.Background()

	_, err := c.ListPods(ctx, "team", metav1.ListOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), `cannot list pods in namespace "team": pods is forbidden: User`) {
		t.Errorf("forbidden list: %v", err)
	}
	if !apierrors.IsForbidden(err) {
		t.Errorf("apierrors.IsForbidden(%v) = false; the status must stay reachable", err)
	}

	_, err = c.ListReplicaSets(ctx, "", metav1.ListOptions{LabelSelector: "app=web"})
	if err == nil || !strings.HasPrefix(err.Error(), `cannot list replicasets with label selector "app=web" in all namespaces: `) {
		t.Errorf("list answered with HTML: %v", err)
	}

	_, err = c.WatchSecrets(ctx, "", metav1.ListOptions{FieldSelector: "type=kubernetes.io/dockercfg"})
	if err == nil || !strings.HasPrefix(err.Error(), `cannot watch secrets with field selector "type=kubernetes.io/dockercfg" in all namespaces: secrets is forbidden`) ||
		!apierrors.IsForbidden(err) {
		t.Errorf("forbidden watch: %v", err)
	}

	_, err = c.ListJobs(ctx, "apps", metav1.ListOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), `cannot list jobs in namespace "apps": `) || !apierrors.IsNotFound(err) {
		t.Errorf("list of an unserved resource: %v", err)
	}

	_, err = c.ServerVersion(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot read the version of the API server "+s.URL+": its /version answer is not a version document") {
		t.Errorf("bad /version: %v", err)
	}

	// Nobody listening.
	s.Close()
	_, err = c.ListServiceAccounts(ctx, "", metav1.ListOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "cannot list serviceaccounts in all namespaces: ") || !strings.Contains(err.Error(), s.Listener.Addr().String()) {
		t.Errorf("server down: %v", err)
	}
	_, err = c.ServerVersion(ctx)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot read the version of the API server "+s.URL+": ") {
		t.Errorf("server down, version: %v", err)
	}
}

func TestNewForConfigRejectsQPSWithoutBurst(t *testing.T) {
	_, err := NewForConfig(&rest.Config{Host: "https://127.0.0.1:1", QPS: 5})
	if err == nil || !strings.Contains(err.Error(), "set Burst") {
		t.Errorf("err = %v", err)
	}
}

func runtimeRaw(t *testing.T, obj any) runtime.RawExtension {
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return runtime.RawExtension{Raw: b}
}
