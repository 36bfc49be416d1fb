package httpapi

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/text/language"
)

// The messages of the API's answers, in English (SimpleJWT's and DRF's
// texts, the default) and in Russian, chosen by the request's
// Accept-Language. Codes ("token_not_valid", ...) are never translated.
//
// A message is known by its English text, which is also its key in the
// catalog; a message with parameters is a fmt format ("Method %q not
// allowed."), and its Russian text has the same verbs in the same order.
// Nothing is done for an answer that carries no message: the header is
// read only when one is written.

// lang is a language the API answers in: an index into langTags.
type lang uint8

const (
	english lang = iota
	russian
)

// langTags are the languages of the catalog, the default first.
var langTags = []language.Tag{language.English, language.Russian}

var langMatcher = language.NewMatcher(langTags)

// contentLanguage and varyLanguage are header values, made once.
var (
	contentLanguage = [...][]string{english: {"en"}, russian: {"ru"}}
	varyLanguage    = []string{"Accept, Accept-Language"}
	anyLanguage     = language.Make("mul") // what ParseAcceptLanguage makes of "*"
)

// maxAcceptLanguage bounds the part of Accept-Language that is parsed:
// browsers send a few dozen bytes.
const maxAcceptLanguage = 1024

// requestLang is the language to answer r in: the best match of its
// Accept-Language (q-values honoured, ru-RU is Russian, "*" and unknown
// languages are English) for the catalog's languages.
func requestLang(r *http.Request) lang {
	vs := r.Header["Accept-Language"]
	if len(vs) == 0 {
		return english
	}
	return acceptLang(strings.Join(vs, ","))
}

// acceptLang chooses a language for an Accept-Language value.
func acceptLang(v string) lang {
	if len(v) > maxAcceptLanguage {
		v = v[:maxAcceptLanguage]
		if i := strings.LastIndexByte(v, ','); i >= 0 {
			v = v[:i]
		}
	}
	tags := parseAcceptLanguage(v)
	for i, t := range tags {
		if t == anyLanguage {
			// "*" is any language not named: the default serves it.
			tags[i] = langTags[english]
		}
	}
	if len(tags) == 0 {
		return english
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No {
		return english
	}
	return lang(i)
}

// parseAcceptLanguage returns the tags of an Accept-Language value, best
// first (q=0 dropped). language.ParseAcceptLanguage refuses a whole list
// for one malformed entry; then the entries that parse are kept.
func parseAcceptLanguage(v string) []language.Tag {
	tags, _, err := language.ParseAcceptLanguage(v)
	if err == nil {
		return tags
	}
	type weighted struct {
		tag language.Tag
		q   float32
	}
	var ok []weighted
	for entry := range strings.SplitSeq(v, ",") {
		if t, q, err := language.ParseAcceptLanguage(entry); err == nil && len(t) == 1 {
			ok = append(ok, weighted{t[0], q[0]})
		}
	}
	slices.SortStableFunc(ok, func(a, b weighted) int { return cmp.Compare(b.q, a.q) })
	tags = make([]language.Tag, len(ok))
	for i, w := range ok {
		tags[i] = w.tag
	}
	return tags
}

// text is a message with its arguments, rendered in a language when an
// answer is written. An argument that is a text is rendered in the same
// language; other arguments (a method name, a byte count, a parser's
// detail) are formatted as they are.
type text struct {
	key  string // the English text or format: the catalog's key
	args []any
}

// msg returns the message key with args.
func msg(key string, args ...any) text { return text{key: key, args: args} }

// String renders t in English.
func (t text) String() string { return t.in(english) }

// onTranslate, when set (by tests), is told of every message rendered in
// another language than English, and whether the catalog had it.
var onTranslate atomic.Pointer[func(key string, found bool)]

// in renders t in l. In English the result is exactly fmt.Sprintf(key,
// args...) (key itself without arguments). A message the catalog lacks is
// written in English.
func (t text) in(l lang) string {
	format := t.key
	args := t.args
	if len(args) > 0 {
		args = make([]any, len(t.args))
		for i, a := range t.args {
			if at, ok := a.(text); ok {
				a = at.in(l)
			}
			args[i] = a
		}
	}
	if l != english {
		forms, ok := catalog[t.key]
		if f := onTranslate.Load(); f != nil {
			(*f)(t.key, ok)
		}
		if ok {
			format = forms[0]
			if len(forms) == 3 {
				format = forms[russianPlural(firstInt(args))]
			}
		}
	}
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

// tr renders the message key with args in l.
func (l lang) tr(key string, args ...any) string { return text{key: key, args: args}.in(l) }

// firstInt returns the first integer argument, which chooses the plural
// form.
func firstInt(args []any) int64 {
	for _, a := range args {
		switch n := a.(type) {
		case int:
			return int64(n)
		case int64:
			return n
		}
	}
	return 0
}

// russianPlural is CLDR's cardinal plural rule for Russian integers: 0
// "one" (1, 21, 101 ...), 1 "few" (2-4, 22-24 ...), 2 "many" (the rest:
// 0, 5-20, 25-30 ...).
func russianPlural(n int64) int {
	if n < 0 {
		n = -n
	}
	switch d, dd := n%10, n%100; {
	case d == 1 && dd != 11:
		return 0
	case d >= 2 && d <= 4 && (dd < 12 || dd > 14):
		return 1
	}
	return 2
}

// writeMessage writes v, a body carrying a message in l, with writeJSON's
// headers, Content-Language, and Vary: Accept, Accept-Language (the body
// depends on both).
func writeMessage(w http.ResponseWriter, l lang, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		body, _ = marshal(detail(l.tr(msgServerError)))
		status = http.StatusInternalServerError
	}
	w.Header()["Content-Language"] = contentLanguage[l]
	writeBodyVary(w, status, body, varyLanguage)
}

// answer writes {"detail": message} in r's language.
func answer(w http.ResponseWriter, r *http.Request, status int, t text) {
	l := requestLang(r)
	writeMessage(w, l, status, detail(t.in(l)))
}

// fieldErrors answers 400 with DRF's {"field": ["message", ...]} body (an
// object whose values are []string of catalog messages), in r's language.
func fieldErrors(w http.ResponseWriter, r *http.Request, errs object) {
	l := requestLang(r)
	out := make(object, len(errs))
	for i, m := range errs {
		msgs, _ := m.V.([]string)
		tr := make([]string, len(msgs))
		for j, s := range msgs {
			tr[j] = l.tr(s)
		}
		out[i] = kv{m.K, tr}
	}
	writeMessage(w, l, http.StatusBadRequest, out)
}

const msgServerError = "A server error occurred."

// catalog holds the Russian text of every message the API answers, keyed
// by the English one: one form, or, for a message counting something,
// three forms (CLDR's one, few, many) chosen by its first integer
// argument. SimpleJWT's, DRF's and Django's own Russian translations are
// used where they have one (marked), word for word; the others are ours.
var catalog = map[string][]string{
	// SimpleJWT (rest_framework_simplejwt/locale/ru_RU).
	"Token is invalid or expired":                                  {"Токен недействителен или просрочен"},
	"Token has no id":                                              {"У токена нет идентификатора"},
	"Token has no type":                                            {"Токен не имеет типа"},
	"Token has wrong type":                                         {"Токен имеет неправильный тип"},
	"Token has no 'exp' claim":                                     {"Токен не содержит 'exp'"},
	"Token 'refresh_exp' claim has expired":                        {"Токен имеет просроченное значение 'refresh_exp'"},
	"Token is blacklisted":                                         {"Токен занесен в черный список"},
	"Token contained no recognizable user identification":          {"Токен не содержит идентификатор пользователя"},
	"User not found":                                               {"Пользователь не найден"},
	"User is inactive":                                             {"Пользователь неактивен"},
	"No active account found with the given credentials":           {"Не найдено активной учетной записи с указанными данными"},
	"Given token not valid for any token type":                     {"Данный токен недействителен для любого типа токена"},
	"Authorization header must contain two space-delimited values": {"Заголовок авторизации должен содержать два значения, разделенных пробелом"},

	// DRF (rest_framework/locale/ru).
	"Authentication credentials were not provided.": {"Учетные данные не были предоставлены."},
	"Not found.":             {"Не найдено."},
	"Method %q not allowed.": {"Метод %q не разрешен."},
	"Unsupported media type \"%s\" in request.":        {"Неподдерживаемый тип данных \"%s\" в запросе."},
	"Request was throttled.":                           {"Запрос был проигнорирован."},
	"This field is required.":                          {"Это поле обязательно."},
	"This field may not be null.":                      {"Это поле не может быть null."},
	"This field may not be blank.":                     {"Это поле не может быть пустым."},
	"A valid integer is required.":                     {"Требуется целочисленное значение."},
	"Invalid data. Expected a dictionary, but got %s.": {"Недопустимые данные. Ожидался dictionary, но был получен %s."},
	msgServerError:                                     {"Произошла ошибка сервера."},
	// Django (django/contrib/auth/locale/ru).
	"Your old password was entered incorrectly. Please enter it again.":  {"Ваш старый пароль введен неправильно. Пожалуйста, введите его снова."},
	"This password is too short. It must contain at least 8 characters.": {"Введённый пароль слишком короткий. Он должен содержать как минимум 8 символов."},
	"This password is entirely numeric.":                                 {"Введённый пароль состоит только из цифр."},

	// DRF's messages its Russian translation leaves out.
	"Expected available in %d second.": {
		"Повторить запрос можно через %d секунду.",
		"Повторить запрос можно через %d секунды.",
		"Повторить запрос можно через %d секунд.",
	},
	"Expected available in %d seconds.": {
		"Повторить запрос можно через %d секунду.",
		"Повторить запрос можно через %d секунды.",
		"Повторить запрос можно через %d секунд.",
	},
	"Not a valid string.": {"Значение должно быть строкой."},

	// DRF's parse errors (untranslated there) and the parser's details.
	"JSON parse error - %s: %s":                  {"Ошибка разбора JSON - %s: %s"},
	"Form parse error - %s":                      {"Ошибка разбора формы - %s"},
	"Multipart form parse error - %s":            {"Ошибка разбора multipart-формы - %s"},
	"Expecting value":                            {"Ожидалось значение"},
	"Extra data":                                 {"Лишние данные"},
	"line %d column %d (char %d)":                {"строка %d, столбец %d (символ %d)"},
	"Invalid character %s %s":                    {"Недопустимый символ %s %s"},
	"Invalid character %s":                       {"Недопустимый символ %s"},
	"looking for beginning of value":             {"в начале значения"},
	"looking for beginning of object key string": {"в начале ключа объекта"},
	"after object key":                           {"после ключа объекта"},
	"after object key:value pair":                {"после пары ключ:значение"},
	"after array element":                        {"после элемента массива"},
	"in string literal":                          {"в строке"},
	"in string escape code":                      {"в escape-последовательности строки"},
	"in \\u hexadecimal character escape":        {"в шестнадцатеричной escape-последовательности \\u"},
	"in numeric literal":                         {"в числе"},
	"after decimal point in numeric literal":     {"после десятичной точки в числе"},
	"in exponent of numeric literal":             {"в показателе степени числа"},
	"in literal %s (expecting %s)":               {"в литерале %s (ожидался символ %s)"},
	"exceeded max depth":                         {"сверх максимальной глубины вложенности"},
	"Request body is larger than %d bytes.":      {"Размер тела запроса превышает %d байт."},
	"Could not read the request body.":           {"Не удалось прочитать тело запроса."},

	// dj-rest-auth's password change, and jwtrevoke's own messages.
	"New password has been saved.":                     {"Новый пароль сохранён."},
	"The new password must differ from the old one.":   {"Новый пароль должен отличаться от старого."},
	"Logout successful.":                               {"Выход выполнен успешно."},
	"The \"refresh\" field is required.":               {"Поле \"refresh\" обязательно."},
	"The \"refresh\" field must be a string.":          {"Поле \"refresh\" должно быть строкой."},
	"Token does not belong to the authenticated user.": {"Токен не принадлежит аутентифицированному пользователю."},
	msgUnavailable: {"Сервис временно недоступен, повторите попытку позже."},
}
