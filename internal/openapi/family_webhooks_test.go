package openapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/internal/server/servertest"
)

func init() {
	register(family{name: "webhooks", exercise: exerciseWebhooks,
		opts: servertest.Options{Env: map[string]string{"GATEHOUSE_WEBHOOK_ALLOW_INSECURE": "true"}}})
}

// exerciseWebhooks covers /admin/webhooks*.
func exerciseWebhooks(t *testing.T, env *servertest.Env, check checkFunc) {
	const key = servertest.AdminKey
	delivered := make(chan struct{}, 10)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		delivered <- struct{}{}
	}))
	defer rcv.Close()
	admin := func(method, path string, body any, want int) *servertest.Response {
		t.Helper()
		return check(call{Method: method, Path: path, JSON: body, Bearer: key, Want: want})
	}
	r := admin("POST", "/admin/webhooks", map[string]any{"url": rcv.URL + "/hook", "events": []string{"user_created"}}, http.StatusCreated)
	id, _ := r.JSON(t)["id"].(string)
	admin("POST", "/admin/webhooks", map[string]any{"url": rcv.URL, "events": []string{"*"},
		"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, http.StatusCreated)
	check(call{Method: "POST", Path: "/admin/webhooks", JSON: map[string]any{"url": rcv.URL}, Bearer: key, Want: http.StatusBadRequest, Invalid: true})
	check(call{Method: "POST", Path: "/admin/webhooks", JSON: map[string]any{"url": rcv.URL, "events": []string{"Not A Type"}}, Bearer: key, Want: http.StatusBadRequest, Invalid: true})
	admin("POST", "/admin/webhooks", map[string]any{"url": "ftp://example.com/hook", "events": []string{"*"}}, http.StatusBadRequest)
	check(call{Method: "POST", Path: "/admin/webhooks", Raw: []byte("url=x"), Header: map[string]string{"Content-Type": "text/plain"}, Bearer: key, Want: http.StatusUnsupportedMediaType, Invalid: true})
	check(call{Method: "POST", Path: "/admin/webhooks", JSON: map[string]any{"url": rcv.URL, "events": []string{"*"}}, Header: map[string]string{"X-Tenant-ID": "no-such-tenant"}, Bearer: key, Want: http.StatusNotFound})
	check(call{Method: "GET", Path: "/admin/webhooks", Bearer: "wrong", Want: http.StatusUnauthorized})

	admin("GET", "/admin/webhooks", nil, http.StatusOK)
	admin("GET", "/admin/webhooks/"+id, nil, http.StatusOK)
	admin("GET", "/admin/webhooks/wh_nope", nil, http.StatusNotFound)
	admin("PATCH", "/admin/webhooks/"+id, map[string]any{"events": []string{"user_created", "logout"}}, http.StatusOK)
	admin("PATCH", "/admin/webhooks/"+id, map[string]any{"secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}, http.StatusOK)
	admin("PATCH", "/admin/webhooks/wh_nope", map[string]any{}, http.StatusNotFound)
	admin("POST", "/admin/webhooks/"+id+"/test", nil, http.StatusAccepted)
	admin("POST", "/admin/webhooks/wh_nope/test", nil, http.StatusNotFound)
	select {
	case <-delivered:
	case <-time.After(10 * time.Second):
		t.Fatal("the test event was not delivered")
	}
	admin("GET", "/admin/webhooks/"+id+"/deliveries", nil, http.StatusOK)
	check(call{Method: "GET", Path: "/admin/webhooks/" + id + "/deliveries?limit=0", Bearer: key, Want: http.StatusBadRequest, Invalid: true})
	admin("GET", "/admin/webhooks/wh_nope/deliveries", nil, http.StatusNotFound)
	admin("DELETE", "/admin/webhooks/"+id, nil, http.StatusNoContent)
	admin("DELETE", "/admin/webhooks/"+id, nil, http.StatusNotFound)

	env.CreateUser("", map[string]any{"username": "walt", "password": nativePassword})
	check(call{Method: "GET", Path: "/admin/webhooks", Bearer: env.Login("", "walt", nativePassword).AccessToken, Want: http.StatusForbidden})
}
