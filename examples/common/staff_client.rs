//! Signing in as staff, for the benchmark examples (a browser's two requests: the login form
//! for its CSRF token, then the form, whose answer sets the session cookie).

/// Signs in; the session cookie (`name=value`) to send from now on.
pub async fn sign_in(client: &reqwest::Client, base: &str, name: &str, password: &str) -> String {
    let login = client.get(format!("{base}/staff/login")).send().await.expect("login page");
    let html = login.text().await.expect("page");
    let csrf = csrf_in(&html);
    let answer = post_form(client, &format!("{base}/staff/login"), "", &[("csrf", &csrf), ("name", name), ("password", password)]).await.expect("sign in");
    assert_eq!(answer.status(), 303, "signing in failed: wrong name or password?");
    set_cookie(&answer).expect("a session cookie")
}

/// POSTs `fields` as a browser's form, with the session `cookie`.
pub async fn post_form(client: &reqwest::Client, url: &str, cookie: &str, fields: &[(&str, &str)]) -> reqwest::Result<reqwest::Response> {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    client.post(url).header("cookie", cookie).header("content-type", "application/x-www-form-urlencoded").body(body).send().await
}

/// The CSRF token of the first form in `html`.
pub fn csrf_in(html: &str) -> String {
    field_in(html, "csrf")
}

/// The value of the first form field `name` in `html`, as a browser sends it (unescaped).
pub fn field_in(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    let raw = html[start..].split('"').next().expect("value");
    raw.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn set_cookie(response: &reqwest::Response) -> Option<String> {
    response.headers().get("set-cookie")?.to_str().ok()?.split(';').next().map(str::to_string)
}
