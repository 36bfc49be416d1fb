package httpapi_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jwtrevoke/jwtrevoke"
	"github.com/jwtrevoke/jwtrevoke/httpapi"
	"github.com/jwtrevoke/jwtrevoke/store/memory"
)

// acceptRussian is what a Russian browser sends.
const acceptRussian = "ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"

// ask sends a request in a language ("" sends no Accept-Language).
func (e *env) ask(lang, method, path, bearer, contentType, body string) resp {
	e.t.Helper()
	var hdr []string
	if lang != "" {
		hdr = []string{"Accept-Language", lang}
	}
	return e.doWith(method, path, bearer, contentType, body, hdr...)
}

// i18nCase is one answer carrying a message, with its English body (what
// SimpleJWT and DRF answer) and its Russian one.
type i18nCase struct {
	name   string
	do     func(lang string) resp
	status int
	en, ru string
}

// run asks each case without Accept-Language and in Russian, and checks
// the bodies byte for byte and the language headers.
func runI18n(t *testing.T, cases []i18nCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, l := range []struct{ accept, body, content string }{{"", c.en, "en"}, {acceptRussian, c.ru, "ru"}} {
				r := c.do(l.accept)
				want(t, r, c.status, l.body)
				if got := r.Header.Get("Content-Language"); got != l.content {
					t.Errorf("Accept-Language %q: Content-Language %q, want %q", l.accept, got, l.content)
				}
				if got := r.Header.Get("Vary"); got != "Accept, Accept-Language" {
					t.Errorf("Accept-Language %q: Vary %q, want \"Accept, Accept-Language\"", l.accept, got)
				}
			}
		})
	}
}

// Every message the API answers, driven over HTTP, in English (unchanged:
// SimpleJWT's and DRF's texts) and in Russian. The test also checks that
// every message of the catalog was answered in Russian here and that none
// was missing from it, so a new message needs a translation and a case.
func TestMessagesRussian(t *testing.T) {
	found, missing := httpapi.RecordTranslations(t)

	var flaky *flakyStore
	e := newEnv(t, withStore(func(m *memory.Store) jwtrevoke.Store { flaky = newFlaky(m); return flaky }))
	p := e.MustLogin(userEmail, userPass)
	other := e.MustLogin(secondEmail, secondPass)
	gone := e.MustLogin(userEmail, userPass)
	want(t, e.logout(gone.Access, gone.Refresh), http.StatusResetContent, bodyLogoutOK)
	now := time.Now()
	forged := func(drop string, set map[string]any) string {
		c := simpleJWTClaims("access", 1, now, 5*time.Minute)
		delete(c, drop)
		for k, v := range set {
			c[k] = v
		}
		return forge(t, testKey, c)
	}
	get := func(path, bearer string) func(string) resp {
		return func(lang string) resp { return e.ask(lang, http.MethodGet, path, bearer, "", "") }
	}
	post := func(path, bearer, ctype, body string) func(string) resp {
		return func(lang string) resp { return e.ask(lang, http.MethodPost, path, bearer, ctype, body) }
	}
	postJSON := func(path, bearer, body string) func(string) resp { return post(path, bearer, "application/json", body) }
	fresh := func(email, pw string, f func(access string) func(string) resp) func(string) resp {
		return func(lang string) resp { return f(e.MustLogin(email, pw).Access)(lang) }
	}
	bearer := func(ru string) string {
		return `{"detail":"Данный токен недействителен для любого типа токена","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"` + ru + `"}]}`
	}
	tokenRU := func(ru string) string { return `{"detail":"` + ru + `","code":"token_not_valid"}` }
	detailBody := func(s string) string { return `{"detail":"` + s + `"}` }
	errorBody := func(s string) string { return `{"error":"` + s + `"}` }

	cases := []i18nCase{
		// Bearer authentication (SimpleJWT).
		{"NoCredentials", get("/api/me/", ""), 401, bodyNoCredentials, `{"detail":"Учетные данные не были предоставлены."}`},
		{"BadHeader", func(lang string) resp {
			return e.request(http.MethodGet, "/api/me/", nil, "Accept-Language", lang, "Authorization", "Bearer a b")
		}, 401, bodyBadHeader, `{"detail":"Заголовок авторизации должен содержать два значения, разделенных пробелом","code":"bad_authorization_header"}`},
		{"BearerInvalid", get("/api/me/", "garbage"), 401, bearerBody(msgInvalid), bearer("Токен недействителен или просрочен")},
		{"BearerWrongType", get("/api/me/", p.Refresh), 401, bearerBody(msgWrongType), bearer("Токен имеет неправильный тип")},
		{"BearerNoID", get("/api/me/", forged("jti", nil)), 401, bearerBody(msgNoID), bearer("У токена нет идентификатора")},
		{"BearerNoType", get("/api/me/", forged("token_type", nil)), 401, bearerBody(msgNoType), bearer("Токен не имеет типа")},
		{"BearerNoExp", get("/api/me/", forged("exp", nil)), 401, bearerBody(msgNoExp), bearer("Токен не содержит 'exp'")},
		{"BearerBlacklisted", get("/api/me/", gone.Access), 401, bearerBody(msgBlacklisted), bearer("Токен занесен в черный список")},
		{"NoUserID", get("/api/me/", forged("user_id", nil)), 401, bodyNoUserID, `{"detail":"Токен не содержит идентификатор пользователя","code":"token_not_valid"}`},
		{"UserNotFound", get("/api/me/", forged("", map[string]any{"user_id": 999})), 401, bodyUserNotFound, `{"detail":"Пользователь не найден","code":"user_not_found"}`},

		// Obtaining tokens and DRF's field and parse errors.
		{"WrongPassword", postJSON("/api/token/", "", `{"email":"test@email.com","password":"wrong"}`), 401,
			bodyNoActiveAccount, `{"detail":"Не найдено активной учетной записи с указанными данными"}`},
		{"Required", postJSON("/api/token/", "", `{}`), 400,
			`{"email":["This field is required."],"password":["This field is required."]}`, `{"email":["Это поле обязательно."],"password":["Это поле обязательно."]}`},
		{"BlankAndNull", postJSON("/api/token/", "", `{"email":"","password":null}`), 400,
			`{"email":["This field may not be blank."],"password":["This field may not be null."]}`, `{"email":["Это поле не может быть пустым."],"password":["Это поле не может быть null."]}`},
		{"NotAString", postJSON("/api/token/", "", `{"email":[1],"password":{}}`), 400,
			`{"email":["Not a valid string."],"password":["Not a valid string."]}`, `{"email":["Значение должно быть строкой."],"password":["Значение должно быть строкой."]}`},
		{"NotAnObject", postJSON("/api/token/", "", `[1,2]`), 400,
			`{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`, `{"non_field_errors":["Недопустимые данные. Ожидался dictionary, но был получен list."]}`},
		{"UnsupportedMediaType", post("/api/token/", "", "text/plain", "x"), 415,
			`{"detail":"Unsupported media type \"text/plain\" in request."}`, `{"detail":"Неподдерживаемый тип данных \"text/plain\" в запросе."}`},
		{"FormParseError", post("/api/token/", "", "application/x-www-form-urlencoded", "%zz"), 400,
			`{"detail":"Form parse error - invalid URL escape \"%zz\""}`, `{"detail":"Ошибка разбора формы - invalid URL escape \"%zz\""}`},
		{"MultipartParseError", post("/api/token/", "", "multipart/form-data; boundary=x", "garbage"), 400,
			`{"detail":"Multipart form parse error - multipart: NextPart: EOF"}`, `{"detail":"Ошибка разбора multipart-формы - multipart: NextPart: EOF"}`},
		{"TooLarge", postJSON("/api/token/", "", strings.Repeat(" ", httpapi.MaxBodyBytes+1)), 413,
			`{"detail":"Request body is larger than 1048576 bytes."}`, `{"detail":"Размер тела запроса превышает 1048576 байт."}`},

		// The token views.
		{"RefreshInvalid", postJSON("/api/token/refresh/", "", `{"refresh":"garbage"}`), 401, tokenBody(msgInvalid), tokenRU("Токен недействителен или просрочен")},
		{"RefreshWrongType", postJSON("/api/token/refresh/", "", `{"refresh":"`+p.Access+`"}`), 401, tokenBody(msgWrongType), tokenRU("Токен имеет неправильный тип")},
		{"RefreshBlacklisted", postJSON("/api/token/refresh/", "", `{"refresh":"`+gone.Refresh+`"}`), 401, tokenBody(msgBlacklisted), tokenRU("Токен занесен в черный список")},
		{"RefreshRequired", postJSON("/api/token/refresh/", "", `{}`), 400, `{"refresh":["This field is required."]}`, `{"refresh":["Это поле обязательно."]}`},
		{"VerifyBlacklisted", postJSON("/api/token/verify/", "", `{"token":"`+gone.Refresh+`"}`), 400, bodyVerifyBlack, `{"non_field_errors":["Токен занесен в черный список"]}`},
		{"BlacklistInvalid", postJSON("/api/token/blacklist/", "", `{"refresh":"garbage"}`), 401, tokenBody(msgInvalid), tokenRU("Токен недействителен или просрочен")},

		// Routing (DRF).
		{"MethodNotAllowed", get("/api/token/", ""), 405, `{"detail":"Method \"GET\" not allowed."}`, `{"detail":"Метод \"GET\" не разрешен."}`},
		{"NotFound", get("/api/nowhere/", ""), 404, `{"detail":"Not found."}`, `{"detail":"Не найдено."}`},

		// Logout (the seed's view, and ours).
		{"LogoutRefreshRequired", postJSON("/api/logout/", p.Access, `{}`), 400,
			logoutBody(`The "refresh" field is required.`), errorBody(`Поле \"refresh\" обязательно.`)},
		{"LogoutRefreshNotString", postJSON("/api/logout/", p.Access, `{"refresh":[1]}`), 400,
			logoutBody(`The "refresh" field must be a string.`), errorBody(`Поле \"refresh\" должно быть строкой.`)},
		{"LogoutForeignToken", postJSON("/api/logout/", p.Access, `{"refresh":"`+other.Refresh+`"}`), 403,
			logoutBody("Token does not belong to the authenticated user."), errorBody("Токен не принадлежит аутентифицированному пользователю.")},
		{"LogoutInvalid", postJSON("/api/logout/", p.Access, `{"refresh":"garbage"}`), 400, logoutBody(msgInvalid), errorBody("Токен недействителен или просрочен")},
		{"LogoutBadBody", post("/api/logout/", p.Access, "text/plain", "x"), 415,
			`{"error":"Unsupported media type \"text/plain\" in request."}`, errorBody(`Неподдерживаемый тип данных \"text/plain\" в запросе.`)},

		// Sessions, audit, password change (Django's messages).
		{"SessionNotFound", func(lang string) resp { return e.ask(lang, http.MethodDelete, "/api/sessions/nope/", p.Access, "", "") }, 404,
			`{"detail":"Not found."}`, `{"detail":"Не найдено."}`},
		{"AuditLimit", get("/api/audit/?limit=x", p.Access), 400, `{"limit":["A valid integer is required."]}`, `{"limit":["Требуется целочисленное значение."]}`},
		{"PasswordRequired", postJSON("/api/password/change/", other.Access, `{}`), 400,
			`{"old_password":["This field is required."],"new_password":["This field is required."]}`,
			`{"old_password":["Это поле обязательно."],"new_password":["Это поле обязательно."]}`},
		{"PasswordWrongOld", postJSON("/api/password/change/", other.Access, `{"old_password":"wrong","new_password":"a-long-new-one"}`), 400,
			`{"old_password":["Your old password was entered incorrectly. Please enter it again."]}`,
			`{"old_password":["Ваш старый пароль введен неправильно. Пожалуйста, введите его снова."]}`},
		{"PasswordWeak", postJSON("/api/password/change/", other.Access, `{"old_password":"`+secondPass+`","new_password":"123"}`), 400,
			`{"new_password":["This password is too short. It must contain at least 8 characters.","This password is entirely numeric."]}`,
			`{"new_password":["Введённый пароль слишком короткий. Он должен содержать как минимум 8 символов.","Введённый пароль состоит только из цифр."]}`},
		{"PasswordSame", postJSON("/api/password/change/", other.Access, `{"old_password":"`+secondPass+`","new_password":"`+secondPass+`"}`), 400,
			`{"new_password":["The new password must differ from the old one."]}`, `{"new_password":["Новый пароль должен отличаться от старого."]}`},
	}
	for _, j := range []struct{ body, en, ru string }{
		{`{"email": `, "Expecting value: line 1 column 11 (char 10)", "Ожидалось значение: строка 1, столбец 11 (символ 10)"},
		{`{} x`, "Extra data: line 1 column 4 (char 3)", "Лишние данные: строка 1, столбец 4 (символ 3)"},
		{`{"a":x}`, "Invalid character 'x' looking for beginning of value: line 1 column 6 (char 5)", "Недопустимый символ 'x' в начале значения: строка 1, столбец 6 (символ 5)"},
		{`{x`, "Invalid character 'x' looking for beginning of object key string: line 1 column 2 (char 1)", "Недопустимый символ 'x' в начале ключа объекта: строка 1, столбец 2 (символ 1)"},
		{`{"a" x`, "Invalid character 'x' after object key: line 1 column 6 (char 5)", "Недопустимый символ 'x' после ключа объекта: строка 1, столбец 6 (символ 5)"},
		{`{"a":1 x`, "Invalid character 'x' after object key:value pair: line 1 column 8 (char 7)", "Недопустимый символ 'x' после пары ключ:значение: строка 1, столбец 8 (символ 7)"},
		{`{"a":[1 x`, "Invalid character 'x' after array element: line 1 column 9 (char 8)", "Недопустимый символ 'x' после элемента массива: строка 1, столбец 9 (символ 8)"},
		{"{\"a\":\"\t\"}", `Invalid character '\\t' in string literal: line 1 column 7 (char 6)`, `Недопустимый символ '\\t' в строке: строка 1, столбец 7 (символ 6)`},
		{`{"a":"\q"}`, "Invalid character 'q' in string escape code: line 1 column 8 (char 7)", "Недопустимый символ 'q' в escape-последовательности строки: строка 1, столбец 8 (символ 7)"},
		{`{"a":"\uZ"}`, `Invalid character 'Z' in \\u hexadecimal character escape: line 1 column 9 (char 8)`, `Недопустимый символ 'Z' в шестнадцатеричной escape-последовательности \\u: строка 1, столбец 9 (символ 8)`},
		{`{"a":-x}`, "Invalid character 'x' in numeric literal: line 1 column 7 (char 6)", "Недопустимый символ 'x' в числе: строка 1, столбец 7 (символ 6)"},
		{`{"a":1.x}`, "Invalid character 'x' after decimal point in numeric literal: line 1 column 8 (char 7)", "Недопустимый символ 'x' после десятичной точки в числе: строка 1, столбец 8 (символ 7)"},
		{`{"a":1ex}`, "Invalid character 'x' in exponent of numeric literal: line 1 column 8 (char 7)", "Недопустимый символ 'x' в показателе степени числа: строка 1, столбец 8 (символ 7)"},
		{`{"a":tx}`, "Invalid character 'x' in literal true (expecting 'r'): line 1 column 7 (char 6)", "Недопустимый символ 'x' в литерале true (ожидался символ 'r'): строка 1, столбец 7 (символ 6)"},
		{strings.Repeat("[", 10001), "Invalid character '[' exceeded max depth: line 1 column 10001 (char 10000)", "Недопустимый символ '[' сверх максимальной глубины вложенности: строка 1, столбец 10001 (символ 10000)"},
	} {
		cases = append(cases, i18nCase{"JSON" + j.body[:min(len(j.body), 8)], postJSON("/api/token/", "", j.body), 400,
			detailBody("JSON parse error - " + j.en), detailBody("Ошибка разбора JSON - " + j.ru)})
	}
	runI18n(t, cases)

	// These change the users: after the others.
	newPass := map[bool]string{false: "n3w-pass-phrase", true: secondPass}
	changed := false
	runI18n(t, []i18nCase{
		{"LogoutOK", fresh(userEmail, userPass, func(a string) func(string) resp {
			return func(lang string) resp {
				return e.ask(lang, http.MethodPost, "/api/logout/", a, "application/json", `{"refresh":"`+e.MustLogin(userEmail, userPass).Refresh+`"}`)
			}
		}), 205, bodyLogoutOK, detailBody("Выход выполнен успешно.")},
		{"LogoutAllOK", fresh(userEmail, userPass, func(a string) func(string) resp { return post("/api/logout/all/", a, "", "") }), 205,
			bodyLogoutOK, detailBody("Выход выполнен успешно.")},
		{"PasswordChanged", func(lang string) resp {
			old, next := newPass[!changed], newPass[changed]
			changed = !changed
			a := e.MustLogin(secondEmail, old).Access
			return e.ask(lang, http.MethodPost, "/api/password/change/", a, "application/json", `{"old_password":"`+old+`","new_password":"`+next+`"}`)
		}, 200, `{"detail":"New password has been saved."}`, `{"detail":"Новый пароль сохранён."}`},
		{"UserInactive", func(lang string) resp {
			e.setActive(secondEmail, true)
			a := e.MustLogin(secondEmail, secondPass).Access
			e.setActive(secondEmail, false)
			return e.ask(lang, http.MethodGet, "/api/me/", a, "", "")
		}, 401, bodyUserInactive, `{"detail":"Пользователь неактивен","code":"user_inactive"}`},
		{"StoreDown", func(lang string) resp {
			flaky.Up()
			a := e.MustLogin(userEmail, userPass).Access
			flaky.Down()
			defer flaky.Up()
			return e.ask(lang, http.MethodGet, "/api/me/", a, "", "")
		}, 503, `{"detail":"Service temporarily unavailable, try again later.","code":"service_unavailable"}`,
			`{"detail":"Сервис временно недоступен, повторите попытку позже.","code":"service_unavailable"}`},
	})

	t.Run("Throttled", func(t *testing.T) {
		clk := newClock(time.Now())
		e := newEnv(t, withClock(clk), withLoginLimits(jwtrevoke.Rate{}, jwtrevoke.Rate{}))
		for range 5 {
			wantLoginRefused(t, e.loginAt("/api/token/", userEmail, "wrong"))
		}
		login := func(lang string) resp {
			return e.ask(lang, http.MethodPost, "/api/token/", "", "application/json", `{"email":"test@email.com","password":"wrong"}`)
		}
		runI18n(t, []i18nCase{{"12s", login, 429,
			detailBody("Request was throttled. Expected available in 12 seconds."), detailBody("Запрос был проигнорирован. Повторить запрос можно через 12 секунд.")}})
		clk.Add(11 * time.Second)
		runI18n(t, []i18nCase{{"1s", login, 429,
			detailBody("Request was throttled. Expected available in 1 second."), detailBody("Запрос был проигнорирован. Повторить запрос можно через 1 секунду.")}})
	})

	t.Run("SlidingRefreshExpired", func(t *testing.T) {
		c := newClock(time.Now().Truncate(time.Second))
		e := newEnv(t, withSliding(), withClock(c), withSettings(func(s *jwtrevoke.Settings) {
			s.SlidingTokenLifetime, s.SlidingTokenRefreshLifetime = time.Hour, 30*time.Minute
		}))
		tok := e.obtainSliding()
		c.Add(31 * time.Minute)
		runI18n(t, []i18nCase{{"RefreshExp", func(lang string) resp {
			return e.ask(lang, http.MethodPost, "/api/token/sliding/refresh/", "", "application/json", `{"token":"`+tok+`"}`)
		}, 401, tokenBody("Token 'refresh_exp' claim has expired"), tokenRU("Токен имеет просроченное значение 'refresh_exp'")}})
	})

	// Answers no client can cause over the network, served directly.
	direct := func(h http.Handler, req *http.Request) resp {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	}
	runI18n(t, []i18nCase{
		{"UnreadableBody", func(lang string) resp {
			req := httptest.NewRequest(http.MethodPost, "/api/token/", iotest.ErrReader(io.ErrUnexpectedEOF))
			req.ContentLength = 10
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept-Language", lang)
			return direct(e.h, req)
		}, 400, `{"detail":"Could not read the request body."}`, `{"detail":"Не удалось прочитать тело запроса."}`},
		{"Panic", func(lang string) resp {
			h := httpapi.New(e.svc, httpapi.Options{
				Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
				NotFound: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
			})
			req := httptest.NewRequest(http.MethodGet, "/admin/", nil)
			req.Header.Set("Accept-Language", lang)
			return direct(h, req)
		}, 500, `{"detail":"A server error occurred."}`, `{"detail":"Произошла ошибка сервера."}`},
	})

	if m := missing(); len(m) > 0 {
		t.Errorf("messages answered in English for lack of a translation: %q", m)
	}
	var unused []string
	for _, k := range httpapi.CatalogKeys() {
		// encoding/json writes no syntax error without a quoted character
		// today: TestBodyErrorsTranslated renders that fallback.
		if !slices.Contains(found(), k) && k != "Invalid character %s" {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		t.Errorf("catalog messages no case answered in Russian (add a case, or drop the message): %q", unused)
	}
}

// Answers without a message are as before: no Content-Language, and Vary
// only on Accept, whatever the client asks for.
func TestNoMessageNoLanguage(t *testing.T) {
	e := newEnv(t)
	p := e.MustLogin(userEmail, userPass)
	for name, r := range map[string]resp{
		"Me":      e.ask(acceptRussian, http.MethodGet, "/api/me/", p.Access, "", ""),
		"Refresh": e.ask(acceptRussian, http.MethodPost, "/api/token/refresh/", "", "application/json", `{"refresh":"`+p.Refresh+`"}`),
		"Verify":  e.ask(acceptRussian, http.MethodPost, "/api/token/verify/", "", "application/json", `{"token":"`+p.Access+`"}`),
	} {
		if r.Status != http.StatusOK {
			t.Errorf("%s: %s", name, r)
		}
		if got := r.Header.Get("Content-Language"); got != "" {
			t.Errorf("%s: Content-Language %q, want none", name, got)
		}
		if got := r.Header.Get("Vary"); got != "Accept" {
			t.Errorf("%s: Vary %q, want Accept", name, got)
		}
	}
}
