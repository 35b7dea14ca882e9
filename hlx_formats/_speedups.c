/* hlx_formats._speedups: the compiled fast paths of the HLX codecs (optional).
 *
 * The pure-Python codecs are the reference and the fallback (json's pattern: _json beside
 * json.decoder). Every function here does only what it is sure of. On anything else (a syntax
 * error, a value the data model refuses, a subclass, a limit reached, an unusual spelling) it
 * gives up without an exception: the decoders return NOT_DECODED and the encoders None, and
 * the pure-Python path then does the work and words the error. So the error text has one
 * source. The only exceptions raised here are MemoryError, TypeError and ValueError for
 * wrong arguments, and RuntimeError before configure().
 *
 * Decoders:  decode_text(text, fmt) -> value | NOT_DECODED     (fmt: 0 HLXL, 1 LC-T, 2 LC-R,
 *            decode_lcb(data, pos) -> (value, end) | NOT_DECODED      3 LC-B text notation)
 * Encoders:  encode_text(value, fmt) -> str | None   (LC-B text: the value's text, unframed)
 *            encode_lcb(value) -> bytes | None
 * configure(Contract, Handle) tells the module the data model's two value types.
 *
 * Nothing here recurses deeper than MAX_DEPTH (256) levels: a deeper value gives up first.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#define MAX_DEPTH 256
#define CONTRACT_ID_MAX 65535
#define FIELD_INDEX_MAX 255
#define MAX_LCB_LENGTH 65535 /* string bytes, bytes, array elements */
#define MAX_LCB_SMALL 255    /* object pairs, key bytes, handle name bytes, contract fields */

enum { HLXL = 0, LCT = 1, LCR = 2, LCB = 3 };

/* LC-R glyphs (and the legacy ones, read as the canonical). */
#define G_NULL 0x2205
#define G_TRUE 0x22A4
#define G_FALSE 0x22A5
#define G_BYTES 0x22A0
#define G_HANDLE 0x27C1
#define G_CONTRACT 0x1F70A
#define G_FIELD 0x1F701
#define G_CONTRACT_END 0x1F702
#define G_ARRAY 0x1F703
#define G_ARRAY_END 0x1F704
#define G_OBJECT 0x25C7
#define G_OBJECT_END 0x25C6
#define LEGACY(glyph) ((glyph) - 0x300) /* U+1F70A -> U+1F40A, and so on */

static PyObject *contract_type; /* hlx_formats.model.Contract, set by configure() */
static PyObject *handle_type;   /* hlx_formats.model.Handle */
static PyObject *not_decoded;   /* the decoders' "give up" */
static PyObject *s_id, *s_fields, *s_hash, *s_name;

/* Where each slot of the two types lives in an instance (configure() finds it from the slot's
 * member descriptor); -1 where it was not found as expected: then the generic attribute calls. */
static Py_ssize_t at_id = -1, at_fields = -1, at_hash = -1, at_name = -1;

/* A give-up keeps no exception, except MemoryError (the Python path would raise it too). */
static void
drop_error(void)
{
    if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_MemoryError)) {
        PyErr_Clear();
    }
}

/* What an entry point returns when it gives up: ``result`` (NOT_DECODED or None), or NULL
 * when the exception is one to raise (MemoryError). */
static PyObject *
gave_up(PyObject *result)
{
    drop_error();
    if (PyErr_Occurred()) {
        return NULL;
    }
    Py_INCREF(result);
    return result;
}

/* The ``fmt`` argument of an entry point (0..3), or -1 with the exception set. */
static int
format_argument(PyObject *argument)
{
    long fmt = PyLong_AsLong(argument);
    if (fmt < HLXL || fmt > LCB) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "fmt is 0..3");
        return -1;
    }
    return (int)fmt;
}

/* Whether configure() has told the module the data model's types (RuntimeError if not). */
static int
configured(void)
{
    if (handle_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "hlx_formats._speedups.configure() was not called");
        return 0;
    }
    return 1;
}

/* --- the data model's value types -------------------------------------------------- */

/* Set a slot of a new instance as object.__setattr__ does (the types' own __setattr__ refuses):
 * straight into the instance where configure() found the slot's place. */
static int
set_slot(PyObject *instance, Py_ssize_t offset, PyObject *name, PyObject *value)
{
    if (offset < 0) {
        return PyObject_GenericSetAttr(instance, name, value);
    }
    PyObject **slot = (PyObject **)((char *)instance + offset);
    Py_INCREF(value);
    Py_XSETREF(*slot, value);
    return 0;
}

/* A slot's value (a new reference), or NULL with no exception where it is unset. */
static PyObject *
get_slot(PyObject *instance, Py_ssize_t offset, PyObject *name)
{
    if (offset < 0) {
        PyObject *value = PyObject_GenericGetAttr(instance, name);
        if (value == NULL) drop_error();
        return value;
    }
    PyObject *value = *(PyObject **)((char *)instance + offset);
    Py_XINCREF(value);
    return value;
}

static PyObject *
new_handle(PyObject *name)
{
    PyTypeObject *type = (PyTypeObject *)handle_type;
    PyObject *handle = type->tp_alloc(type, 0);
    if (handle == NULL) {
        return NULL;
    }
    if (set_slot(handle, at_name, s_name, name) < 0) {
        Py_DECREF(handle);
        return NULL;
    }
    return handle;
}

typedef struct {
    int index;
    PyObject *value; /* owned */
} Field;

typedef struct {
    Field small[16];
    Field *items;
    int count, capacity;
    uint64_t seen[4]; /* the indices read so far */
} Fields;

static void
fields_init(Fields *fields)
{
    fields->items = fields->small;
    fields->count = 0;
    fields->capacity = 16;
    memset(fields->seen, 0, sizeof(fields->seen));
}

static void
fields_free(Fields *fields)
{
    for (int i = 0; i < fields->count; i++) {
        Py_XDECREF(fields->items[i].value);
    }
    if (fields->items != fields->small) {
        PyMem_Free(fields->items);
    }
}

/* Whether ``index`` is new to the contract (a repeat gives up); records it. */
static int
fields_claim(Fields *fields, int index)
{
    uint64_t bit = (uint64_t)1 << (index & 63);
    if (fields->seen[index >> 6] & bit) {
        return 0;
    }
    fields->seen[index >> 6] |= bit;
    return 1;
}

/* Adds a field (stealing ``value``); -1 on MemoryError. */
static int
fields_add(Fields *fields, int index, PyObject *value)
{
    if (fields->count == fields->capacity) {
        int capacity = fields->capacity * 2;
        Field *items = PyMem_Malloc(sizeof(Field) * capacity);
        if (items == NULL) {
            Py_DECREF(value);
            PyErr_NoMemory();
            return -1;
        }
        memcpy(items, fields->items, sizeof(Field) * fields->count);
        if (fields->items != fields->small) {
            PyMem_Free(fields->items);
        }
        fields->items = items;
        fields->capacity = capacity;
    }
    fields->items[fields->count].index = index;
    fields->items[fields->count].value = value;
    fields->count++;
    return 0;
}

/* The Contract of ``id`` and ``fields`` (indices checked, at least one), fields in ascending
 * index order as Contract keeps them. The fields' values move into it. */
static PyObject *
new_contract(long id, Fields *fields)
{
    Field *items = fields->items;
    int count = fields->count;
    for (int i = 1; i < count; i++) { /* insertion sort: text order is almost always ascending */
        Field field = items[i];
        int j = i - 1;
        while (j >= 0 && items[j].index > field.index) {
            items[j + 1] = items[j];
            j--;
        }
        items[j + 1] = field;
    }
    PyObject *pairs = PyTuple_New(count);
    if (pairs == NULL) {
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        PyObject *pair = PyTuple_New(2);
        PyObject *index = PyLong_FromLong(items[i].index);
        if (pair == NULL || index == NULL) {
            Py_XDECREF(pair);
            Py_XDECREF(index);
            Py_DECREF(pairs);
            return NULL;
        }
        PyTuple_SET_ITEM(pair, 0, index);
        PyTuple_SET_ITEM(pair, 1, items[i].value);
        items[i].value = NULL;
        PyTuple_SET_ITEM(pairs, i, pair);
    }
    PyTypeObject *type = (PyTypeObject *)contract_type;
    PyObject *contract = type->tp_alloc(type, 0);
    PyObject *id_object = PyLong_FromLong(id);
    if (contract == NULL || id_object == NULL || set_slot(contract, at_id, s_id, id_object) < 0 ||
        set_slot(contract, at_fields, s_fields, pairs) < 0 || set_slot(contract, at_hash, s_hash, Py_None) < 0) {
        Py_XDECREF(contract);
        contract = NULL;
    }
    Py_XDECREF(id_object);
    Py_DECREF(pairs);
    return contract;
}

/* ======================================================================================
 * Text decoders
 * ====================================================================================== */

typedef struct {
    PyObject *text;
    int kind;
    const void *data;
    Py_ssize_t length, pos;
    int fmt;
    PyObject *memo; /* keys read so far: each key text is one str object */
} Reader;

/* The character at ``i``, or 0 past the end (no token accepts a NUL character). */
static inline Py_UCS4
at(const Reader *r, Py_ssize_t i)
{
    return i < r->length ? PyUnicode_READ(r->kind, r->data, i) : 0;
}

static inline int
is_space(Py_UCS4 c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static inline int
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

static inline int
hex_value(Py_UCS4 c)
{
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}

static inline int
is_name_start(Py_UCS4 c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static inline int
is_name_char(Py_UCS4 c)
{
    return is_name_start(c) || is_digit(c);
}

static inline void
skip_space(Reader *r)
{
    while (r->pos < r->length && is_space(PyUnicode_READ(r->kind, r->data, r->pos))) {
        r->pos++;
    }
}

/* Whether the text at ``pos`` spells ``word`` (ASCII). */
static int
spells(const Reader *r, Py_ssize_t pos, const char *word)
{
    for (; *word; word++, pos++) {
        if (at(r, pos) != (Py_UCS4)(unsigned char)*word) {
            return 0;
        }
    }
    return 1;
}

/* A contract id or field index: decimal digits, no sign, no leading zero, at most ``maximum``;
 * -1 (give up) otherwise. */
static long
read_index(Reader *r, long maximum)
{
    Py_ssize_t start = r->pos;
    long value = 0;
    while (is_digit(at(r, r->pos))) {
        if (r->pos - start == 5) {
            return -1;
        }
        value = value * 10 + (long)(at(r, r->pos) - '0');
        r->pos++;
    }
    if (r->pos == start || (r->pos - start > 1 && at(r, start) == '0') || value > maximum) {
        return -1;
    }
    return value;
}

static PyObject *read_value(Reader *r, int depth);

/* "..." at r->pos. LC-T and LC-B text take printable ASCII only (every other character escaped). */
static PyObject *
read_string(Reader *r)
{
    int ascii_only = r->fmt == LCT || r->fmt == LCB;
    Py_ssize_t start = r->pos + 1, end = start;
    int escaped = 0;
    for (;;) {
        if (end >= r->length) {
            return NULL;
        }
        Py_UCS4 c = PyUnicode_READ(r->kind, r->data, end);
        if (c == '"') {
            break;
        }
        if (c == '\\') {
            escaped = 1;
            end += 2; /* the escape is checked below */
            continue;
        }
        if (c < 0x20 || c == 0x7F || (c > 0x7E && (ascii_only || (c >= 0xD800 && c <= 0xDFFF)))) {
            return NULL;
        }
        end++;
    }
    r->pos = end + 1;
    if (!escaped) {
        return PyUnicode_Substring(r->text, start, end);
    }
    Py_UCS4 *buffer = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(end - start));
    if (buffer == NULL) {
        return PyErr_NoMemory();
    }
    Py_ssize_t length = 0, i = start;
    while (i < end) {
        Py_UCS4 c = PyUnicode_READ(r->kind, r->data, i);
        if (c != '\\') {
            buffer[length++] = c;
            i++;
            continue;
        }
        Py_UCS4 escape = at(r, i + 1);
        i += 2;
        switch (escape) {
        case '"': buffer[length++] = '"'; continue;
        case '\\': buffer[length++] = '\\'; continue;
        case 'b': buffer[length++] = '\b'; continue;
        case 'f': buffer[length++] = '\f'; continue;
        case 'n': buffer[length++] = '\n'; continue;
        case 'r': buffer[length++] = '\r'; continue;
        case 't': buffer[length++] = '\t'; continue;
        case 'u': break;
        default: goto give_up;
        }
        Py_UCS4 code = 0;
        for (int k = 0; k < 4; k++) {
            int digit = i + k < end ? hex_value(PyUnicode_READ(r->kind, r->data, i + k)) : -1;
            if (digit < 0) goto give_up;
            code = code * 16 + (Py_UCS4)digit;
        }
        i += 4;
        if (code >= 0xDC00 && code <= 0xDFFF) {
            goto give_up; /* a low surrogate alone */
        }
        if (code >= 0xD800 && code <= 0xDBFF) { /* a high surrogate: its low half must follow */
            Py_UCS4 low = 0;
            if (i + 6 > end || at(r, i) != '\\' || at(r, i + 1) != 'u') goto give_up;
            for (int k = 2; k < 6; k++) {
                int digit = hex_value(PyUnicode_READ(r->kind, r->data, i + k));
                if (digit < 0) goto give_up;
                low = low * 16 + (Py_UCS4)digit;
            }
            if (low < 0xDC00 || low > 0xDFFF) goto give_up;
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        buffer[length++] = code;
    }
    PyObject *result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buffer, length);
    PyMem_Free(buffer);
    return result;
give_up:
    PyMem_Free(buffer);
    return NULL;
}

/* An integer (-2**63 .. 2**64-1) or a float (finite) in decimal. */
static PyObject *
read_number(Reader *r)
{
    Py_ssize_t start = r->pos, i = start;
    int negative = at(r, i) == '-';
    if (negative) i++;
    Py_UCS4 c = at(r, i);
    if (!is_digit(c)) {
        return NULL;
    }
    if (c == '0') {
        i++; /* a leading zero ends the integer part: "01" is a syntax error after it */
    }
    else {
        while (is_digit(at(r, i))) i++;
    }
    Py_ssize_t integer_end = i;
    int is_float = 0;
    if (at(r, i) == '.' && is_digit(at(r, i + 1))) {
        i += 2;
        while (is_digit(at(r, i))) i++;
        is_float = 1;
    }
    c = at(r, i);
    if (c == 'e' || c == 'E') {
        Py_ssize_t j = i + 1;
        if (at(r, j) == '+' || at(r, j) == '-') j++;
        if (is_digit(at(r, j))) {
            while (is_digit(at(r, j))) j++;
            i = j;
            is_float = 1;
        }
    }
    r->pos = i;
    if (!is_float) {
        Py_ssize_t digits = integer_end - start - negative;
        if (digits > 20) {
            return NULL;
        }
        unsigned long long magnitude = 0;
        for (Py_ssize_t k = start + negative; k < integer_end; k++) {
            unsigned digit = (unsigned)(at(r, k) - '0');
            if (magnitude > (ULLONG_MAX - digit) / 10) {
                return NULL;
            }
            magnitude = magnitude * 10 + digit;
        }
        if (!negative) {
            return PyLong_FromUnsignedLongLong(magnitude);
        }
        if (magnitude > (unsigned long long)LLONG_MAX + 1) {
            return NULL;
        }
        return PyLong_FromLongLong(magnitude == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)magnitude);
    }
    Py_ssize_t length = i - start;
    char small[64];
    char *token = length < (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc((size_t)length + 1);
    if (token == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t k = 0; k < length; k++) {
        token[k] = (char)at(r, start + k);
    }
    token[length] = '\0';
    char *end = NULL;
    double value = PyOS_string_to_double(token, &end, NULL); /* float()'s own conversion */
    int whole = end == token + length;
    if (token != small) {
        PyMem_Free(token);
    }
    if ((value == -1.0 && PyErr_Occurred()) || !whole || !isfinite(value)) {
        return NULL;
    }
    return PyFloat_FromDouble(value);
}

/* LC-B text: -?0x<hex> (any number of digits) or a decimal number. */
static PyObject *
read_lcb_number(Reader *r)
{
    Py_ssize_t i = r->pos;
    int negative = at(r, i) == '-';
    if (negative) i++;
    if (!(at(r, i) == '0' && at(r, i + 1) == 'x' && hex_value(at(r, i + 2)) >= 0)) {
        return read_number(r);
    }
    i += 2;
    unsigned long long magnitude = 0;
    for (int digit; (digit = hex_value(at(r, i))) >= 0; i++) {
        if (magnitude >> 60) {
            return NULL; /* past 2**64 - 1 */
        }
        magnitude = (magnitude << 4) | (unsigned)digit;
    }
    r->pos = i;
    if (!negative) {
        return PyLong_FromUnsignedLongLong(magnitude);
    }
    if (magnitude > (unsigned long long)LLONG_MAX + 1) {
        return NULL;
    }
    return PyLong_FromLongLong(magnitude == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)magnitude);
}

/* An identifier at r->pos (its end), or -1. */
static Py_ssize_t
name_end(const Reader *r, Py_ssize_t i)
{
    if (!is_name_start(at(r, i))) {
        return -1;
    }
    for (i++; is_name_char(at(r, i)); i++) {
    }
    return i;
}

/* A handle: ``prefix`` characters, then its name. */
static PyObject *
read_handle(Reader *r, Py_ssize_t prefix)
{
    Py_ssize_t start = r->pos + prefix, end = name_end(r, start);
    if (end < 0) {
        return NULL;
    }
    PyObject *name = PyUnicode_Substring(r->text, start, end);
    if (name == NULL) {
        return NULL;
    }
    r->pos = end;
    PyObject *handle = new_handle(name);
    Py_DECREF(name);
    return handle;
}

/* Bytes as hex digits after a ``prefix`` of characters (an even number of them). */
static PyObject *
read_hex_bytes(Reader *r, Py_ssize_t prefix)
{
    Py_ssize_t start = r->pos + prefix, end = start;
    while (hex_value(at(r, end)) >= 0) end++;
    if ((end - start) % 2) {
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, (end - start) / 2);
    if (result == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(result);
    for (Py_ssize_t i = start; i < end; i += 2) {
        *out++ = (char)(hex_value(at(r, i)) * 16 + hex_value(at(r, i + 1)));
    }
    r->pos = end;
    return result;
}

/* HLXL b"...": printable ASCII but " and \, \xHH, and the escapes \" \\ \n \r \t. */
static PyObject *
read_hlxl_bytes(Reader *r)
{
    Py_ssize_t i = r->pos + 2, end = i;
    if (at(r, r->pos + 1) != '"') {
        return NULL;
    }
    while (end < r->length && at(r, end) != '"') {
        end += at(r, end) == '\\' ? 2 : 1;
    }
    if (end >= r->length) {
        return NULL;
    }
    PyObject *result = PyBytes_FromStringAndSize(NULL, end - i);
    if (result == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(result), *first = out;
    while (i < end) {
        Py_UCS4 c = at(r, i);
        if (c != '\\') {
            if (c < 0x20 || c > 0x7E) goto give_up;
            *out++ = (char)c;
            i++;
            continue;
        }
        Py_UCS4 escape = at(r, i + 1);
        i += 2;
        if (escape == 'x') {
            int high = i < end ? hex_value(at(r, i)) : -1, low = i + 1 < end ? hex_value(at(r, i + 1)) : -1;
            if (high < 0 || low < 0) goto give_up;
            *out++ = (char)(high * 16 + low);
            i += 2;
        }
        else if (escape == '"' || escape == '\\') *out++ = (char)escape;
        else if (escape == 'n') *out++ = '\n';
        else if (escape == 'r') *out++ = '\r';
        else if (escape == 't') *out++ = '\t';
        else goto give_up;
    }
    r->pos = end + 1;
    if (_PyBytes_Resize(&result, out - first) < 0) {
        return NULL;
    }
    return result;
give_up:
    Py_DECREF(result);
    return NULL;
}

static int
closes_array(const Reader *r, Py_UCS4 c)
{
    return r->fmt == LCR ? c == G_ARRAY_END || c == LEGACY(G_ARRAY_END) : c == ']';
}

static int
closes_object(const Reader *r, Py_UCS4 c)
{
    return r->fmt == LCR ? c == G_OBJECT_END : c == '}';
}

/* After an item of a container: 1 on a comma (another item follows; the space after it
 * passed), 0 on the container's closer, -1 on anything else. */
static int
after_item(Reader *r, int (*closes)(const Reader *, Py_UCS4))
{
    skip_space(r);
    Py_UCS4 c = at(r, r->pos++);
    if (c == ',') {
        skip_space(r);
        return 1;
    }
    return closes(r, c) ? 0 : -1;
}

/* Array items up to its closer (the opener read); ``depth``: this array's level. */
static PyObject *
read_items(Reader *r, int depth)
{
    PyObject *list = PyList_New(0);
    if (list == NULL) {
        return NULL;
    }
    skip_space(r);
    if (closes_array(r, at(r, r->pos))) {
        r->pos++;
        return list;
    }
    for (;;) {
        PyObject *item = read_value(r, depth);
        if (item == NULL) break;
        int failed = PyList_Append(list, item);
        Py_DECREF(item);
        if (failed) break;
        int next = after_item(r, closes_array);
        if (next == 0) return list;
        if (next < 0) break;
    }
    Py_DECREF(list);
    return NULL;
}

static const char *const RESERVED_KEYS[4][5] = {
    {"null", "true", "false", NULL},
    {"NULL", "TRUE", "FALSE", "C", NULL},
    {NULL},
    {"T", "F", "_", NULL},
};

/* A key: a quoted string, or an identifier the format does not reserve. */
static PyObject *
read_key(Reader *r)
{
    PyObject *key;
    if (at(r, r->pos) == '"') {
        key = read_string(r);
    }
    else {
        Py_ssize_t end = name_end(r, r->pos);
        if (end < 0) {
            return NULL;
        }
        for (const char *const *word = RESERVED_KEYS[r->fmt]; *word; word++) {
            if ((Py_ssize_t)strlen(*word) == end - r->pos && spells(r, r->pos, *word)) {
                return NULL;
            }
        }
        key = PyUnicode_Substring(r->text, r->pos, end);
        r->pos = end;
    }
    if (key == NULL) {
        return NULL;
    }
    PyObject *known = PyDict_SetDefault(r->memo, key, key);
    Py_XINCREF(known);
    Py_DECREF(key);
    return known;
}

/* Object pairs up to the closer (the opener read). */
static PyObject *
read_pairs(Reader *r, int depth)
{
    PyObject *dict = PyDict_New();
    if (dict == NULL) {
        return NULL;
    }
    skip_space(r);
    if (closes_object(r, at(r, r->pos))) {
        r->pos++;
        return dict;
    }
    for (;;) {
        PyObject *key = read_key(r);
        if (key == NULL) break;
        skip_space(r);
        if (at(r, r->pos) != ':') {
            Py_DECREF(key);
            break;
        }
        r->pos++;
        skip_space(r);
        PyObject *item = read_value(r, depth);
        if (item == NULL) {
            Py_DECREF(key);
            break;
        }
        Py_ssize_t size = PyDict_GET_SIZE(dict);
        int failed = PyDict_SetItem(dict, key, item);
        Py_DECREF(key);
        Py_DECREF(item);
        if (failed || PyDict_GET_SIZE(dict) == size) break; /* a repeated key gives up */
        int next = after_item(r, closes_object);
        if (next == 0) return dict;
        if (next < 0) break;
    }
    Py_DECREF(dict);
    return NULL;
}

/* One field's value into ``fields`` (its index just read); 0 to go on, -1 to give up. */
static int
read_field(Reader *r, Fields *fields, long index, int depth)
{
    if (index < 0 || !fields_claim(fields, (int)index)) {
        return -1;
    }
    PyObject *item = read_value(r, depth);
    if (item == NULL) {
        return -1;
    }
    return fields_add(fields, (int)index, item);
}

/* Whether the character at r->pos is ``c`` (then passed). */
static inline int
take(Reader *r, Py_UCS4 c)
{
    if (at(r, r->pos) != c) {
        return 0;
    }
    r->pos++;
    return 1;
}

/* HLXL {ID: {@0: v0, @1: v1}} from the id on (the outer brace read). */
static PyObject *
read_hlxl_contract(Reader *r, int depth)
{
    long id = read_index(r, CONTRACT_ID_MAX);
    if (id < 0) {
        return NULL;
    }
    skip_space(r);
    if (!take(r, ':')) return NULL;
    skip_space(r);
    if (!take(r, '{')) return NULL;
    skip_space(r);
    Fields fields;
    fields_init(&fields);
    PyObject *result = NULL;
    for (;;) {
        if (!take(r, '@')) break;
        long index = read_index(r, FIELD_INDEX_MAX);
        skip_space(r);
        if (!take(r, ':')) break;
        skip_space(r);
        if (read_field(r, &fields, index, depth) < 0) break;
        skip_space(r);
        if (take(r, ',')) {
            skip_space(r);
            continue;
        }
        if (take(r, '}')) {
            skip_space(r);
            if (take(r, '}')) result = new_contract(id, &fields);
        }
        break;
    }
    fields_free(&fields);
    return result;
}

/* Fields written "<marker> index <assign> value" up to ``close``, of the contract ``id``:
 * LC-T's ",0=v0,1=v1}" and LC-B text's "|0:v0|1:v1]". */
static PyObject *
read_marked_fields(Reader *r, long id, int depth, Py_UCS4 marker, Py_UCS4 assign, Py_UCS4 close)
{
    Fields fields;
    fields_init(&fields);
    PyObject *result = NULL;
    for (;;) {
        skip_space(r);
        if (take(r, close)) {
            if (fields.count) result = new_contract(id, &fields);
            break;
        }
        if (!take(r, marker)) break;
        skip_space(r);
        long index = read_index(r, FIELD_INDEX_MAX);
        skip_space(r);
        if (!take(r, assign)) break;
        skip_space(r);
        if (read_field(r, &fields, index, depth) < 0) break;
    }
    fields_free(&fields);
    return result;
}

/* LC-T {C:ID,0=v0,1=v1} from the "C" on. */
static PyObject *
read_lct_contract(Reader *r, int depth)
{
    r->pos++;
    skip_space(r);
    if (!take(r, ':')) return NULL;
    skip_space(r);
    long id = read_index(r, CONTRACT_ID_MAX);
    return id < 0 ? NULL : read_marked_fields(r, id, depth, ',', '=', '}');
}

/* LC-R 🜊ID🜁0 v0🜁1 v1🜂 from the id on (the glyph read). */
static PyObject *
read_lcr_contract(Reader *r, int depth)
{
    long id = read_index(r, CONTRACT_ID_MAX);
    if (id < 0) {
        return NULL;
    }
    Fields fields;
    fields_init(&fields);
    PyObject *result = NULL;
    for (;;) {
        skip_space(r);
        Py_UCS4 c = at(r, r->pos);
        if (c == G_CONTRACT_END || c == LEGACY(G_CONTRACT_END)) {
            r->pos++;
            if (fields.count) result = new_contract(id, &fields);
            break;
        }
        if (c != G_FIELD && c != LEGACY(G_FIELD)) break;
        r->pos++;
        long index = read_index(r, FIELD_INDEX_MAX);
        if (r->pos >= r->length) break;
        skip_space(r);
        if (read_field(r, &fields, index, depth) < 0) break;
    }
    fields_free(&fields);
    return result;
}

/* Whether an LC-B text contract starts at ``i`` (after a "["): -?(0x<hex>|<digits>) then "|". */
static int
lcb_contract_starts(const Reader *r, Py_ssize_t i)
{
    while (is_space(at(r, i))) i++;
    if (at(r, i) == '-') i++;
    if (at(r, i) == '0' && at(r, i + 1) == 'x' && hex_value(at(r, i + 2)) >= 0) {
        for (i += 2; hex_value(at(r, i)) >= 0; i++) {
        }
    }
    else {
        if (!is_digit(at(r, i))) return 0;
        while (is_digit(at(r, i))) i++;
    }
    while (is_space(at(r, i))) i++;
    return at(r, i) == '|';
}

/* LC-B text [ID|0:v0|1:v1] from the id on (the bracket read). */
static PyObject *
read_lcb_contract(Reader *r, int depth)
{
    long id = read_index(r, CONTRACT_ID_MAX);
    return id < 0 ? NULL : read_marked_fields(r, id, depth, '|', ':', ']');
}

static PyObject *
read_hlxl_value(Reader *r, int depth)
{
    Py_UCS4 c = at(r, r->pos);
    switch (c) {
    case '"':
        return read_string(r);
    case '{':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        skip_space(r);
        c = at(r, r->pos);
        return c == '-' || is_digit(c) ? read_hlxl_contract(r, depth + 1) : read_pairs(r, depth + 1);
    case '[':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_items(r, depth + 1);
    case '&':
        return spells(r, r->pos, "&h_") ? read_handle(r, 3) : NULL;
    case 'n':
        if (!spells(r, r->pos, "null")) return NULL;
        r->pos += 4;
        Py_RETURN_NONE;
    case 't':
        if (!spells(r, r->pos, "true")) return NULL;
        r->pos += 4;
        Py_RETURN_TRUE;
    case 'f':
        if (!spells(r, r->pos, "false")) return NULL;
        r->pos += 5;
        Py_RETURN_FALSE;
    case 'b':
        return read_hlxl_bytes(r);
    default:
        return c == '-' || is_digit(c) ? read_number(r) : NULL;
    }
}

static PyObject *
read_lct_value(Reader *r, int depth)
{
    Py_UCS4 c = at(r, r->pos);
    switch (c) {
    case '"':
        return read_string(r);
    case '[':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_items(r, depth + 1);
    case '{':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        skip_space(r);
        /* "{C" then no more of a name: a contract, or (a bare reserved key) nothing valid */
        if (at(r, r->pos) == 'C' && !is_name_char(at(r, r->pos + 1))) return read_lct_contract(r, depth + 1);
        return read_pairs(r, depth + 1);
    case '@':
        return read_handle(r, 1);
    case 'N':
        if (!spells(r, r->pos, "NULL")) return NULL;
        r->pos += 4;
        Py_RETURN_NONE;
    case 'T':
        if (!spells(r, r->pos, "TRUE")) return NULL;
        r->pos += 4;
        Py_RETURN_TRUE;
    case 'F':
        if (!spells(r, r->pos, "FALSE")) return NULL;
        r->pos += 5;
        Py_RETURN_FALSE;
    case '#':
        return read_hex_bytes(r, 1);
    default:
        return c == '-' || is_digit(c) ? read_number(r) : NULL;
    }
}

static PyObject *
read_lcr_value(Reader *r, int depth)
{
    Py_UCS4 c = at(r, r->pos);
    if (c == '"') return read_string(r);
    if (c == '-' || is_digit(c)) return read_number(r);
    if (c == G_ARRAY || c == LEGACY(G_ARRAY)) {
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_items(r, depth + 1);
    }
    if (c == G_OBJECT) {
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_pairs(r, depth + 1);
    }
    if (c == G_CONTRACT || c == LEGACY(G_CONTRACT)) {
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_lcr_contract(r, depth + 1);
    }
    switch (c) {
    case G_NULL: r->pos++; Py_RETURN_NONE;
    case G_TRUE: r->pos++; Py_RETURN_TRUE;
    case G_FALSE: r->pos++; Py_RETURN_FALSE;
    case G_BYTES: return read_hex_bytes(r, 1);
    case G_HANDLE: return read_handle(r, 1);
    default: return NULL;
    }
}

static PyObject *
read_lcb_value(Reader *r, int depth)
{
    Py_UCS4 c = at(r, r->pos);
    switch (c) {
    case '"':
        return read_string(r);
    case '[':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        if (lcb_contract_starts(r, r->pos)) {
            skip_space(r);
            return read_lcb_contract(r, depth + 1);
        }
        return read_items(r, depth + 1);
    case '{':
        if (depth >= MAX_DEPTH) return NULL;
        r->pos++;
        return read_pairs(r, depth + 1);
    case '_': r->pos++; Py_RETURN_NONE;
    case 'T': r->pos++; Py_RETURN_TRUE;
    case 'F': r->pos++; Py_RETURN_FALSE;
    case '#': return read_hex_bytes(r, 1);
    case '&': return read_handle(r, 1);
    default:
        return c == '-' || is_digit(c) ? read_lcb_number(r) : NULL;
    }
}

static PyObject *
read_value(Reader *r, int depth)
{
    switch (r->fmt) {
    case HLXL: return read_hlxl_value(r, depth);
    case LCT: return read_lct_value(r, depth);
    case LCR: return read_lcr_value(r, depth);
    default: return read_lcb_value(r, depth);
    }
}

/* The LC-B text notation's top level: a framed value "[v]", or a contract "[ID|...]". */
static PyObject *
read_lcb_top(Reader *r)
{
    if (!take(r, '[')) {
        return NULL;
    }
    if (lcb_contract_starts(r, r->pos)) {
        skip_space(r);
        return read_lcb_contract(r, 1);
    }
    skip_space(r);
    PyObject *value = read_value(r, 0);
    if (value == NULL) {
        return NULL;
    }
    skip_space(r);
    if (!take(r, ']')) {
        Py_DECREF(value);
        return NULL;
    }
    return value;
}

static PyObject *
decode_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "decode_text(text: str, fmt: int)");
        return NULL;
    }
    int fmt = format_argument(args[1]);
    if (fmt < 0) {
        return NULL;
    }
    if (!configured()) {
        return NULL;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(args[0]) < 0) {
        return NULL;
    }
#endif
    Reader r = {args[0], PyUnicode_KIND(args[0]), PyUnicode_DATA(args[0]), PyUnicode_GET_LENGTH(args[0]), 0, fmt, NULL};
    r.memo = PyDict_New();
    if (r.memo == NULL) {
        return NULL;
    }
    if (at(&r, 0) == 0xFEFF) {
        r.pos = 1; /* a byte-order mark, read as the reference reads it */
    }
    skip_space(&r);
    PyObject *value = r.fmt == LCB ? read_lcb_top(&r) : read_value(&r, 0);
    Py_DECREF(r.memo);
    if (value != NULL) {
        skip_space(&r);
        if (r.pos == r.length) {
            return value;
        }
        Py_DECREF(value);
    }
    return gave_up(not_decoded);
}

/* ======================================================================================
 * Encoders
 * ====================================================================================== */

typedef struct {
    char *data;
    Py_ssize_t length, capacity;
    int ascii; /* nothing but ASCII written so far */
    char small[512];
} Out;

static void
out_init(Out *out)
{
    out->data = out->small;
    out->length = 0;
    out->capacity = sizeof(out->small);
    out->ascii = 1;
}

static void
out_free(Out *out)
{
    if (out->data != out->small) {
        PyMem_Free(out->data);
    }
}

static int
out_grow(Out *out, Py_ssize_t extra)
{
    if (extra > PY_SSIZE_T_MAX / 2 - out->length) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t capacity = out->capacity * 2;
    if (capacity < out->length + extra) {
        capacity = out->length + extra;
    }
    char *data = out->data == out->small ? PyMem_Malloc((size_t)capacity) : PyMem_Realloc(out->data, (size_t)capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    if (out->data == out->small) {
        memcpy(data, out->small, (size_t)out->length);
    }
    out->data = data;
    out->capacity = capacity;
    return 0;
}

/* Room for ``extra`` more bytes: the pointer to write them at, or NULL. */
static inline char *
out_room(Out *out, Py_ssize_t extra)
{
    if (out->length + extra > out->capacity && out_grow(out, extra) < 0) {
        return NULL;
    }
    return out->data + out->length;
}

static inline int
out_write(Out *out, const char *text, Py_ssize_t length)
{
    char *at_end = out_room(out, length);
    if (at_end == NULL) {
        return -1;
    }
    memcpy(at_end, text, (size_t)length);
    out->length += length;
    return 0;
}

static inline int
out_text(Out *out, const char *text)
{
    return out_write(out, text, (Py_ssize_t)strlen(text));
}

static inline int
out_byte(Out *out, unsigned char byte)
{
    char *at_end = out_room(out, 1);
    if (at_end == NULL) {
        return -1;
    }
    *at_end = (char)byte;
    out->length++;
    return 0;
}

static const char HEX[] = "0123456789abcdef";

/* How each text format writes each kind (see the Spelling of each format's module). */
typedef struct {
    const char *null_, *true_, *false_, *handle_prefix;
    const char *bytes_prefix; /* NULL: HLXL's b"..." */
    const char *array_open, *array_close, *object_open, *object_close, *separator, *pair_separator;
    const char *contract_open, *contract_open_end; /* around the id */
    const char *field_open, *field_open_end;       /* around the index */
    const char *field_separator, *contract_close;
    int ascii_strings, hex_integers, glyphs;
} Spelling;

static const Spelling SPELLINGS[4] = {
    {"null", "true", "false", "&h_", NULL, "[", "]", "{", "}", ", ", ": ", "{", ": {", "@", ": ", ", ", "}}", 0, 0, 0},
    {"NULL", "TRUE", "FALSE", "@", "#", "[", "]", "{", "}", ",", ":", "{C:", "", ",", "=", "", "}", 1, 0, 0},
    {"\xe2\x88\x85", "\xe2\x8a\xa4", "\xe2\x8a\xa5", "\xe2\x9f\x81", "\xe2\x8a\xa0", "\xf0\x9f\x9c\x83", "\xf0\x9f\x9c\x84",
     "\xe2\x97\x87", "\xe2\x97\x86", ", ", ": ", "\xf0\x9f\x9c\x8a", "", "\xf0\x9f\x9c\x81", " ", "", "\xf0\x9f\x9c\x82", 0, 0, 1},
    {"_", "T", "F", "&", "#", "[", "]", "{", "}", ",", ":", "[", "", "|", ":", "", "]", 1, 1, 0},
};

/* A decimal integer. */
static int
write_decimal(Out *out, unsigned long long magnitude, int negative)
{
    char digits[24];
    int i = sizeof(digits);
    do {
        digits[--i] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative) digits[--i] = '-';
    return out_write(out, digits + i, (Py_ssize_t)sizeof(digits) - i);
}

/* LC-B text: lower-case hex padded to whole bytes, the sign first. */
static int
write_hex_integer(Out *out, unsigned long long magnitude, int negative)
{
    char digits[24];
    int i = sizeof(digits);
    do {
        digits[--i] = HEX[magnitude & 15];
        magnitude >>= 4;
    } while (magnitude);
    if ((sizeof(digits) - i) % 2) digits[--i] = '0';
    digits[--i] = 'x';
    digits[--i] = '0';
    if (negative) digits[--i] = '-';
    return out_write(out, digits + i, (Py_ssize_t)sizeof(digits) - i);
}

/* An int's magnitude and sign, within -2**63 .. 2**64-1; -1 (give up) outside. */
static int
integer_parts(PyObject *value, unsigned long long *magnitude, int *negative)
{
    int overflow = 0;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (number == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0) {
        *negative = number < 0;
        *magnitude = number < 0 ? (unsigned long long)0 - (unsigned long long)number : (unsigned long long)number;
        return 0;
    }
    if (overflow < 0) {
        return -1;
    }
    *magnitude = PyLong_AsUnsignedLongLong(value);
    if (*magnitude == (unsigned long long)-1 && PyErr_Occurred()) {
        return -1;
    }
    *negative = 0;
    return 0;
}

/* Python's repr, with ".0" before an exponent whose mantissa has no point. */
static int
write_float(Out *out, double value)
{
    if (!isfinite(value)) {
        return -1;
    }
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        return -1;
    }
    char *exponent = strchr(text, 'e');
    int failed;
    if (exponent != NULL && memchr(text, '.', (size_t)(exponent - text)) == NULL) {
        failed = out_write(out, text, exponent - text) || out_write(out, ".0", 2) || out_text(out, exponent);
    }
    else {
        failed = out_text(out, text);
    }
    PyMem_Free(text);
    return failed ? -1 : 0;
}

/* UTF-8 of one code point (not a surrogate). */
static inline int
write_utf8(Out *out, Py_UCS4 c)
{
    char *p = out_room(out, 4);
    if (p == NULL) {
        return -1;
    }
    if (c < 0x80) {
        p[0] = (char)c;
        out->length += 1;
        return 0;
    }
    out->ascii = 0;
    if (c < 0x800) {
        p[0] = (char)(0xC0 | (c >> 6));
        p[1] = (char)(0x80 | (c & 0x3F));
        out->length += 2;
    }
    else if (c < 0x10000) {
        p[0] = (char)(0xE0 | (c >> 12));
        p[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[2] = (char)(0x80 | (c & 0x3F));
        out->length += 3;
    }
    else {
        p[0] = (char)(0xF0 | (c >> 18));
        p[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        p[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        p[3] = (char)(0x80 | (c & 0x3F));
        out->length += 4;
    }
    return 0;
}

static int
write_u_escape(Out *out, Py_UCS4 code)
{
    char text[6] = {'\\', 'u', HEX[(code >> 12) & 15], HEX[(code >> 8) & 15], HEX[(code >> 4) & 15], HEX[code & 15]};
    return out_write(out, text, 6);
}

/* The escape of an ASCII character that needs one (NULL: written raw). */
static const char *
ascii_escape(Py_UCS4 c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: return NULL;
    }
}

/* "..." with the short escapes, \u00XX for other controls, and the rest raw (HLXL, LC-R) or,
 * ``ascii_only``, every non-ASCII character as \uXXXX (surrogate pairs above U+FFFF). */
static int
write_string(Out *out, PyObject *text, int ascii_only)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    if (out_byte(out, '"') < 0) return -1;
    if (PyUnicode_IS_ASCII(text)) {
        const char *chars = (const char *)data;
        Py_ssize_t run = 0; /* start of the characters not yet written */
        for (Py_ssize_t i = 0; i < length; i++) {
            unsigned char c = (unsigned char)chars[i];
            if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7F) continue;
            if (out_write(out, chars + run, i - run) < 0) return -1;
            const char *escape = ascii_escape(c);
            if ((escape ? out_text(out, escape) : write_u_escape(out, c)) < 0) return -1;
            run = i + 1;
        }
        if (out_write(out, chars + run, length - run) < 0) return -1;
        return out_byte(out, '"');
    }
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int failed;
        if (c < 0x80) {
            const char *escape = ascii_escape(c);
            if (escape) failed = out_text(out, escape);
            else if (c < 0x20 || c == 0x7F) failed = write_u_escape(out, c);
            else failed = out_byte(out, (unsigned char)c);
        }
        else if (c >= 0xD800 && c <= 0xDFFF) {
            return -1; /* a lone surrogate: the Python encoder says where */
        }
        else if (!ascii_only) {
            failed = write_utf8(out, c);
        }
        else if (c > 0xFFFF) {
            Py_UCS4 code = c - 0x10000;
            failed = write_u_escape(out, 0xD800 + (code >> 10)) || write_u_escape(out, 0xDC00 + (code & 0x3FF));
        }
        else {
            failed = write_u_escape(out, c);
        }
        if (failed) return -1;
    }
    return out_byte(out, '"');
}

static int
write_bytes(Out *out, const Spelling *spelling, PyObject *value)
{
    const unsigned char *data = (const unsigned char *)PyBytes_AS_STRING(value);
    Py_ssize_t length = PyBytes_GET_SIZE(value);
    if (spelling->bytes_prefix != NULL) {
        if (out_text(out, spelling->bytes_prefix) < 0) return -1;
        char *p = out_room(out, 2 * length);
        if (p == NULL) return -1;
        for (Py_ssize_t i = 0; i < length; i++) {
            *p++ = HEX[data[i] >> 4];
            *p++ = HEX[data[i] & 15];
        }
        out->length += 2 * length;
        return 0;
    }
    char *p = out_room(out, 4 * length + 3); /* b"...": printable ASCII but " and \, else \xHH */
    if (p == NULL) return -1;
    char *first = p;
    *p++ = 'b';
    *p++ = '"';
    for (Py_ssize_t i = 0; i < length; i++) {
        unsigned char c = data[i];
        if (c >= 0x20 && c <= 0x7E && c != '"' && c != '\\') {
            *p++ = (char)c;
        }
        else {
            *p++ = '\\';
            *p++ = 'x';
            *p++ = HEX[c >> 4];
            *p++ = HEX[c & 15];
        }
    }
    *p++ = '"';
    out->length += p - first;
    return 0;
}

/* A bare key is an identifier the format does not reserve; any other key is quoted. */
static int
write_key(Out *out, int fmt, PyObject *key)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    int bare = PyUnicode_IS_ASCII(key) && length > 0;
    const char *chars = bare ? (const char *)PyUnicode_DATA(key) : NULL;
    if (bare) {
        bare = is_name_start((unsigned char)chars[0]);
        for (Py_ssize_t i = 1; bare && i < length; i++) {
            bare = is_name_char((unsigned char)chars[i]);
        }
        for (const char *const *word = RESERVED_KEYS[fmt]; bare && *word; word++) {
            bare = !((Py_ssize_t)strlen(*word) == length && memcmp(*word, chars, (size_t)length) == 0);
        }
    }
    if (bare) {
        return out_write(out, chars, length);
    }
    return write_string(out, key, SPELLINGS[fmt].ascii_strings);
}


static int write_text(Out *out, int fmt, PyObject *value, int depth);

/* An int in 0..maximum (a contract's id, a field's index), or -1. Contract checks its id and
 * indices when it is made; one made around those checks gives up here. */
static long
small_int(PyObject *value, long maximum)
{
    if (!PyLong_CheckExact(value)) {
        return -1;
    }
    long number = PyLong_AsLong(value);
    if (number == -1 && PyErr_Occurred()) {
        drop_error();
        return -1;
    }
    return number >= 0 && number <= maximum ? number : -1;
}

static int
write_contract(Out *out, int fmt, PyObject *value, int depth)
{
    const Spelling *spelling = &SPELLINGS[fmt];
    PyObject *id = get_slot(value, at_id, s_id), *fields = get_slot(value, at_fields, s_fields);
    int failed = -1;
    long number = id == NULL ? -1 : small_int(id, CONTRACT_ID_MAX);
    if (number < 0 || fields == NULL || !PyTuple_CheckExact(fields)) goto done;
    if (out_text(out, spelling->contract_open) || write_decimal(out, (unsigned long long)number, 0) ||
        out_text(out, spelling->contract_open_end)) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
        PyObject *pair = PyTuple_GET_ITEM(fields, i);
        long index = PyTuple_CheckExact(pair) && PyTuple_GET_SIZE(pair) == 2 ? small_int(PyTuple_GET_ITEM(pair, 0), FIELD_INDEX_MAX) : -1;
        if (index < 0) goto done;
        if ((i && out_text(out, spelling->field_separator)) || out_text(out, spelling->field_open) ||
            write_decimal(out, (unsigned long long)index, 0) || out_text(out, spelling->field_open_end) ||
            write_text(out, fmt, PyTuple_GET_ITEM(pair, 1), depth + 1)) {
            goto done;
        }
    }
    failed = out_text(out, spelling->contract_close);
done:
    Py_XDECREF(id);
    Py_XDECREF(fields);
    return failed;
}

/* ``value``, ``depth`` containers deep, in format ``fmt``; -1 to give up. */
static int
write_text(Out *out, int fmt, PyObject *value, int depth)
{
    const Spelling *spelling = &SPELLINGS[fmt];
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
        return write_string(out, value, spelling->ascii_strings);
    }
    if (type == &PyLong_Type) {
        unsigned long long magnitude;
        int negative;
        if (integer_parts(value, &magnitude, &negative) < 0) return -1;
        return spelling->hex_integers ? write_hex_integer(out, magnitude, negative) : write_decimal(out, magnitude, negative);
    }
    if (value == Py_None) return out_text(out, spelling->null_);
    if (value == Py_True) return out_text(out, spelling->true_);
    if (value == Py_False) return out_text(out, spelling->false_);
    if (type == &PyFloat_Type) return write_float(out, PyFloat_AS_DOUBLE(value));
    if (type == &PyList_Type) {
        if (depth >= MAX_DEPTH || out_text(out, spelling->array_open)) return -1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            if ((i && out_text(out, spelling->separator)) || write_text(out, fmt, PyList_GET_ITEM(value, i), depth + 1)) return -1;
        }
        return out_text(out, spelling->array_close);
    }
    if (type == &PyDict_Type) {
        if (depth >= MAX_DEPTH || out_text(out, spelling->object_open)) return -1;
        Py_ssize_t position = 0, i = 0;
        PyObject *key, *item;
        while (PyDict_Next(value, &position, &key, &item)) {
            if (!PyUnicode_CheckExact(key)) return -1;
            if ((i++ && out_text(out, spelling->separator)) || write_key(out, fmt, key) || out_text(out, spelling->pair_separator) ||
                write_text(out, fmt, item, depth + 1)) {
                return -1;
            }
        }
        return out_text(out, spelling->object_close);
    }
    if (type == &PyBytes_Type) return write_bytes(out, spelling, value);
    if ((PyObject *)type == contract_type) {
        return depth >= MAX_DEPTH ? -1 : write_contract(out, fmt, value, depth);
    }
    if ((PyObject *)type == handle_type) {
        PyObject *name = get_slot(value, at_name, s_name);
        int failed = name == NULL || !PyUnicode_CheckExact(name) || !PyUnicode_IS_ASCII(name) ||
                     out_text(out, spelling->handle_prefix) ||
                     out_write(out, (const char *)PyUnicode_DATA(name), PyUnicode_GET_LENGTH(name));
        Py_XDECREF(name);
        return failed ? -1 : 0;
    }
    return -1; /* a subclass or a kind outside the data model: the Python encoder */
}

static PyObject *
encode_text(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "encode_text(value, fmt: int)");
        return NULL;
    }
    int fmt = format_argument(args[1]);
    if (fmt < 0) {
        return NULL;
    }
    Out out;
    out_init(&out);
    PyObject *result = NULL;
    if (write_text(&out, fmt, args[0], 0) == 0) {
        if (out.ascii && !SPELLINGS[fmt].glyphs) {
            result = PyUnicode_New(out.length, 127);
            if (result != NULL) memcpy(PyUnicode_DATA(result), out.data, (size_t)out.length);
        }
        else {
            result = PyUnicode_DecodeUTF8(out.data, out.length, "strict");
        }
    }
    out_free(&out);
    if (result != NULL) {
        return result;
    }
    return gave_up(Py_None);
}

/* ======================================================================================
 * LC-B binary
 * ====================================================================================== */

enum {
    TAG_NULL = 0x00, TAG_TRUE = 0x01, TAG_FALSE = 0x02,
    TAG_INT8 = 0x10, TAG_INT16 = 0x11, TAG_INT32 = 0x12, TAG_INT64 = 0x13,
    TAG_UINT8 = 0x14, TAG_UINT16 = 0x15, TAG_UINT32 = 0x16, TAG_UINT64 = 0x17,
    TAG_FLOAT32 = 0x20, TAG_FLOAT64 = 0x21,
    TAG_STRING = 0x30, TAG_BYTES = 0x31, TAG_HANDLE = 0x40, TAG_CONTRACT = 0x50, TAG_ARRAY = 0x60, TAG_OBJECT = 0x70,
};

static int
write_little(Out *out, unsigned long long number, int size)
{
    char *p = out_room(out, size);
    if (p == NULL) return -1;
    for (int i = 0; i < size; i++) {
        p[i] = (char)(number >> (8 * i));
    }
    out->length += size;
    return 0;
}

/* UTF-8 of a str (no surrogate) behind a length field of ``length_size`` bytes at most ``limit``. */
static int
write_sized_utf8(Out *out, PyObject *text, int length_size, Py_ssize_t limit)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text), mark = out->length;
    if (length > limit || write_little(out, 0, length_size) < 0) return -1;
    if (PyUnicode_IS_ASCII(text)) {
        if (out_write(out, (const char *)PyUnicode_DATA(text), length) < 0) return -1;
    }
    else {
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        for (Py_ssize_t i = 0; i < length; i++) {
            Py_UCS4 c = PyUnicode_READ(kind, data, i);
            if ((c >= 0xD800 && c <= 0xDFFF) || write_utf8(out, c) < 0) return -1;
        }
    }
    Py_ssize_t size = out->length - mark - length_size;
    if (size > limit) return -1;
    for (int i = 0; i < length_size; i++) {
        out->data[mark + i] = (char)(size >> (8 * i));
    }
    return 0;
}

static int write_binary(Out *out, PyObject *value, int depth);

static int
write_binary_contract(Out *out, PyObject *value, int depth)
{
    PyObject *id = get_slot(value, at_id, s_id), *fields = get_slot(value, at_fields, s_fields);
    int failed = -1;
    long number = id == NULL ? -1 : small_int(id, CONTRACT_ID_MAX);
    if (number < 0 || fields == NULL || !PyTuple_CheckExact(fields) || PyTuple_GET_SIZE(fields) > MAX_LCB_SMALL) {
        goto done;
    }
    if (out_byte(out, TAG_CONTRACT) || write_little(out, (unsigned long long)number, 2) || out_byte(out, (unsigned char)PyTuple_GET_SIZE(fields))) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(fields); i++) {
        PyObject *pair = PyTuple_GET_ITEM(fields, i);
        long index = PyTuple_CheckExact(pair) && PyTuple_GET_SIZE(pair) == 2 ? small_int(PyTuple_GET_ITEM(pair, 0), FIELD_INDEX_MAX) : -1;
        if (index < 0) goto done;
        if (out_byte(out, (unsigned char)index) ||
            write_binary(out, PyTuple_GET_ITEM(pair, 1), depth + 1)) {
            goto done;
        }
    }
    failed = 0;
done:
    Py_XDECREF(id);
    Py_XDECREF(fields);
    return failed;
}

static int
write_binary(Out *out, PyObject *value, int depth)
{
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
        return out_byte(out, TAG_STRING) || write_sized_utf8(out, value, 2, MAX_LCB_LENGTH) ? -1 : 0;
    }
    if (type == &PyLong_Type) {
        unsigned long long magnitude;
        int negative;
        if (integer_parts(value, &magnitude, &negative) < 0) return -1;
        if (!negative && magnitude > (unsigned long long)LLONG_MAX) {
            return out_byte(out, TAG_UINT64) || write_little(out, magnitude, 8) ? -1 : 0;
        }
        long long number = negative ? (long long)(0 - magnitude) : (long long)magnitude;
        if (number >= -0x80 && number <= 0x7F) return out_byte(out, TAG_INT8) || write_little(out, (unsigned long long)number, 1) ? -1 : 0;
        if (number >= -0x8000 && number <= 0x7FFF) return out_byte(out, TAG_INT16) || write_little(out, (unsigned long long)number, 2) ? -1 : 0;
        if (number >= -0x80000000LL && number <= 0x7FFFFFFFLL) {
            return out_byte(out, TAG_INT32) || write_little(out, (unsigned long long)number, 4) ? -1 : 0;
        }
        return out_byte(out, TAG_INT64) || write_little(out, (unsigned long long)number, 8) ? -1 : 0;
    }
    if (value == Py_None) return out_byte(out, TAG_NULL);
    if (value == Py_True) return out_byte(out, TAG_TRUE);
    if (value == Py_False) return out_byte(out, TAG_FALSE);
    if (type == &PyFloat_Type) {
        double number = PyFloat_AS_DOUBLE(value);
        unsigned long long bits;
        if (!isfinite(number)) return -1;
        memcpy(&bits, &number, 8);
        return out_byte(out, TAG_FLOAT64) || write_little(out, bits, 8) ? -1 : 0;
    }
    if (type == &PyList_Type) {
        Py_ssize_t length = PyList_GET_SIZE(value);
        if (depth >= MAX_DEPTH || length > MAX_LCB_LENGTH || out_byte(out, TAG_ARRAY) || write_little(out, (unsigned long long)length, 2)) {
            return -1;
        }
        for (Py_ssize_t i = 0; i < length; i++) {
            if (write_binary(out, PyList_GET_ITEM(value, i), depth + 1)) return -1;
        }
        return 0;
    }
    if (type == &PyDict_Type) {
        Py_ssize_t length = PyDict_GET_SIZE(value), position = 0;
        PyObject *key, *item;
        if (depth >= MAX_DEPTH || length > MAX_LCB_SMALL || out_byte(out, TAG_OBJECT) || out_byte(out, (unsigned char)length)) {
            return -1;
        }
        while (PyDict_Next(value, &position, &key, &item)) {
            if (!PyUnicode_CheckExact(key) || write_sized_utf8(out, key, 1, MAX_LCB_SMALL) || write_binary(out, item, depth + 1)) {
                return -1;
            }
        }
        return 0;
    }
    if (type == &PyBytes_Type) {
        Py_ssize_t length = PyBytes_GET_SIZE(value);
        if (length > MAX_LCB_LENGTH) return -1;
        return out_byte(out, TAG_BYTES) || write_little(out, (unsigned long long)length, 2) || out_write(out, PyBytes_AS_STRING(value), length) ? -1 : 0;
    }
    if ((PyObject *)type == contract_type) {
        return depth >= MAX_DEPTH ? -1 : write_binary_contract(out, value, depth);
    }
    if ((PyObject *)type == handle_type) {
        PyObject *name = get_slot(value, at_name, s_name);
        int failed = name == NULL || !PyUnicode_CheckExact(name) || !PyUnicode_IS_ASCII(name) || out_byte(out, TAG_HANDLE) ||
                     write_sized_utf8(out, name, 1, MAX_LCB_SMALL);
        Py_XDECREF(name);
        return failed ? -1 : 0;
    }
    return -1;
}

static PyObject *
encode_lcb(PyObject *module, PyObject *value)
{
    Out out;
    out_init(&out);
    PyObject *result = NULL;
    if (write_binary(&out, value, 0) == 0) {
        result = PyBytes_FromStringAndSize(out.data, out.length);
    }
    out_free(&out);
    if (result != NULL) {
        return result;
    }
    return gave_up(Py_None);
}

typedef struct {
    const unsigned char *data;
    Py_ssize_t length, pos;
    PyObject *memo;
} BinaryReader;

/* ``size`` bytes from the reader (their start), or NULL when the input ends first. */
static inline const unsigned char *
take_bytes(BinaryReader *b, Py_ssize_t size)
{
    if (size > b->length - b->pos) {
        return NULL;
    }
    const unsigned char *start = b->data + b->pos;
    b->pos += size;
    return start;
}

static unsigned long long
little(const unsigned char *p, int size)
{
    unsigned long long number = 0;
    for (int i = size - 1; i >= 0; i--) {
        number = (number << 8) | p[i];
    }
    return number;
}

static PyObject *read_binary(BinaryReader *b, int depth);

static PyObject *
read_binary_contract(BinaryReader *b, int depth)
{
    const unsigned char *head = take_bytes(b, 3);
    if (head == NULL || head[2] == 0) {
        return NULL;
    }
    long id = (long)little(head, 2);
    int count = head[2];
    Fields fields;
    fields_init(&fields);
    PyObject *result = NULL;
    for (int i = 0; i < count; i++) {
        const unsigned char *index = take_bytes(b, 1);
        if (index == NULL || !fields_claim(&fields, *index)) goto done;
        PyObject *item = read_binary(b, depth);
        if (item == NULL || fields_add(&fields, *index, item) < 0) goto done;
    }
    result = new_contract(id, &fields);
done:
    fields_free(&fields);
    return result;
}

static PyObject *
read_binary(BinaryReader *b, int depth)
{
    const unsigned char *p = take_bytes(b, 1);
    if (p == NULL) {
        return NULL;
    }
    unsigned char tag = *p;
    switch (tag) {
    case TAG_NULL: Py_RETURN_NONE;
    case TAG_TRUE: Py_RETURN_TRUE;
    case TAG_FALSE: Py_RETURN_FALSE;
    case TAG_INT8: case TAG_INT16: case TAG_INT32: case TAG_INT64: {
        int size = 1 << (tag - TAG_INT8);
        if ((p = take_bytes(b, size)) == NULL) return NULL;
        unsigned long long bits = little(p, size);
        int shift = 64 - 8 * size; /* sign-extend */
        long long number = shift ? (long long)(bits << shift) >> shift : (long long)bits;
        return PyLong_FromLongLong(number);
    }
    case TAG_UINT8: case TAG_UINT16: case TAG_UINT32: case TAG_UINT64: {
        int size = 1 << (tag - TAG_UINT8);
        if ((p = take_bytes(b, size)) == NULL) return NULL;
        return PyLong_FromUnsignedLongLong(little(p, size));
    }
    case TAG_FLOAT32: {
        if ((p = take_bytes(b, 4)) == NULL) return NULL;
        uint32_t bits = (uint32_t)little(p, 4);
        float number;
        memcpy(&number, &bits, 4);
        return isfinite(number) ? PyFloat_FromDouble((double)number) : NULL;
    }
    case TAG_FLOAT64: {
        if ((p = take_bytes(b, 8)) == NULL) return NULL;
        unsigned long long bits = little(p, 8);
        double number;
        memcpy(&number, &bits, 8);
        return isfinite(number) ? PyFloat_FromDouble(number) : NULL;
    }
    case TAG_STRING: case TAG_BYTES: {
        if ((p = take_bytes(b, 2)) == NULL) return NULL;
        Py_ssize_t size = (Py_ssize_t)little(p, 2);
        if ((p = take_bytes(b, size)) == NULL) return NULL;
        return tag == TAG_STRING ? PyUnicode_DecodeUTF8((const char *)p, size, "strict") : PyBytes_FromStringAndSize((const char *)p, size);
    }
    case TAG_HANDLE: {
        if ((p = take_bytes(b, 1)) == NULL) return NULL;
        Py_ssize_t size = *p;
        if ((p = take_bytes(b, size)) == NULL || size == 0 || !is_name_start(p[0])) return NULL;
        for (Py_ssize_t i = 1; i < size; i++) {
            if (!is_name_char(p[i])) return NULL;
        }
        PyObject *name = PyUnicode_DecodeASCII((const char *)p, size, "strict");
        if (name == NULL) return NULL;
        PyObject *handle = new_handle(name);
        Py_DECREF(name);
        return handle;
    }
    case TAG_ARRAY: {
        if (depth >= MAX_DEPTH || (p = take_bytes(b, 2)) == NULL) return NULL;
        Py_ssize_t count = (Py_ssize_t)little(p, 2);
        if (count > b->length - b->pos) return NULL; /* each element takes a byte at least */
        PyObject *list = PyList_New(count);
        if (list == NULL) return NULL;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *item = read_binary(b, depth + 1);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, i, item);
        }
        return list;
    }
    case TAG_OBJECT: {
        if (depth >= MAX_DEPTH || (p = take_bytes(b, 1)) == NULL) return NULL;
        int count = *p;
        PyObject *dict = PyDict_New();
        if (dict == NULL) return NULL;
        for (int i = 0; i < count; i++) {
            const unsigned char *size = take_bytes(b, 1), *text = size ? take_bytes(b, *size) : NULL;
            PyObject *key = text ? PyUnicode_DecodeUTF8((const char *)text, *size, "strict") : NULL;
            PyObject *known = key ? PyDict_SetDefault(b->memo, key, key) : NULL;
            Py_XINCREF(known);
            Py_XDECREF(key);
            PyObject *item = known ? read_binary(b, depth + 1) : NULL;
            Py_ssize_t before = PyDict_GET_SIZE(dict);
            int failed = item == NULL || PyDict_SetItem(dict, known, item) < 0 || PyDict_GET_SIZE(dict) == before;
            Py_XDECREF(known);
            Py_XDECREF(item);
            if (failed) {
                Py_DECREF(dict);
                return NULL;
            }
        }
        return dict;
    }
    case TAG_CONTRACT:
        return depth >= MAX_DEPTH ? NULL : read_binary_contract(b, depth + 1);
    default:
        return NULL;
    }
}

static PyObject *
decode_lcb(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyBytes_Check(args[0]) || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "decode_lcb(data: bytes, pos: int)");
        return NULL;
    }
    Py_ssize_t pos = PyLong_AsSsize_t(args[1]);
    if (pos < 0 || pos > PyBytes_GET_SIZE(args[0])) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "pos is outside the data");
        return NULL;
    }
    if (!configured()) {
        return NULL;
    }
    BinaryReader b = {(const unsigned char *)PyBytes_AS_STRING(args[0]), PyBytes_GET_SIZE(args[0]), pos, PyDict_New()};
    if (b.memo == NULL) {
        return NULL;
    }
    PyObject *value = read_binary(&b, 0);
    Py_DECREF(b.memo);
    if (value != NULL) {
        PyObject *end = PyLong_FromSsize_t(b.pos);
        PyObject *result = end ? PyTuple_Pack(2, value, end) : NULL;
        Py_DECREF(value);
        Py_XDECREF(end);
        return result;
    }
    return gave_up(not_decoded);
}

/* ======================================================================================
 * The module
 * ====================================================================================== */

/* Where the ``__slots__`` entry ``name`` of ``type`` lives in an instance: the offset its member
 * descriptor holds, when it is one for an object slot; -1 otherwise. */
static Py_ssize_t
slot_offset(PyObject *type, PyObject *name)
{
    PyObject *descriptor = PyDict_GetItemWithError(((PyTypeObject *)type)->tp_dict, name);
    if (descriptor == NULL || !Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        PyErr_Clear();
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
    return member->type == T_OBJECT_EX && !(member->flags & READONLY) ? member->offset : -1;
}

static PyObject *
configure(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyType_Check(args[0]) || !PyType_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "configure(Contract, Handle)");
        return NULL;
    }
    Py_INCREF(args[0]);
    Py_INCREF(args[1]);
    Py_XSETREF(contract_type, args[0]);
    Py_XSETREF(handle_type, args[1]);
    at_id = slot_offset(args[0], s_id);
    at_fields = slot_offset(args[0], s_fields);
    at_hash = slot_offset(args[0], s_hash);
    at_name = slot_offset(args[1], s_name);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"decode_text", (PyCFunction)(void (*)(void))decode_text, METH_FASTCALL,
     "decode_text(text, fmt): the value of a valid text (fmt 0 HLXL, 1 LC-T, 2 LC-R, 3 LC-B text), else NOT_DECODED."},
    {"encode_text", (PyCFunction)(void (*)(void))encode_text, METH_FASTCALL,
     "encode_text(value, fmt): the canonical text of value (LC-B text unframed), else None."},
    {"decode_lcb", (PyCFunction)(void (*)(void))decode_lcb, METH_FASTCALL,
     "decode_lcb(data, pos): (value, end) of the LC-B binary value at data[pos:], else NOT_DECODED."},
    {"encode_lcb", (PyCFunction)encode_lcb, METH_O, "encode_lcb(value): the canonical LC-B binary of value, else None."},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, "configure(Contract, Handle): the data model's value types."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT, "hlx_formats._speedups",
    "The compiled fast paths of the HLX codecs; the pure-Python codecs are the reference and the fallback.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    not_decoded = PyObject_CallNoArgs((PyObject *)&PyBaseObject_Type);
    s_id = PyUnicode_InternFromString("id");
    s_fields = PyUnicode_InternFromString("_fields");
    s_hash = PyUnicode_InternFromString("_hash");
    s_name = PyUnicode_InternFromString("name");
    if (not_decoded == NULL || s_id == NULL || s_fields == NULL || s_hash == NULL || s_name == NULL ||
        PyModule_AddObjectRef(module, "NOT_DECODED", not_decoded) < 0 || PyModule_AddIntConstant(module, "MAX_DEPTH", MAX_DEPTH) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
