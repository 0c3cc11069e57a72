//! A counting forward proxy on 127.0.0.1 for tests: `CONNECT host:port` tunnels and plain
//! http requests in absolute form, each recorded before it is passed on.
//!
//! Every forwarded request is sent with `Connection: close`, so each request a client makes
//! through it is one connection and one record. Host names can be routed to a local address
//! ([`ConnectProxy::route`]), so a test can use a real-looking host (a VPC endpoint) that no
//! DNS knows; a target it cannot reach gets `502` (and is still recorded). One started with
//! [`ConnectProxy::start_with_login`] wants `Proxy-Authorization: Basic` with that user and
//! password on every request, as a corporate proxy does: `407` without it (still recorded).

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// The proxy; stops when dropped.
pub struct ConnectProxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    routes: Arc<Mutex<HashMap<String, SocketAddr>>>,
    stop: Arc<AtomicBool>,
    /// `user:password`, when it wants a login.
    login: Option<String>,
}

impl ConnectProxy {
    /// Listens on 127.0.0.1 on a free port.
    pub fn start() -> ConnectProxy {
        ConnectProxy::listen(None)
    }

    /// Like [`ConnectProxy::start`], and wants `user:password` on every request.
    pub fn start_with_login(user: &str, password: &str) -> ConnectProxy {
        ConnectProxy::listen(Some(format!("{user}:{password}")))
    }

    fn listen(login: Option<String>) -> ConnectProxy {
        use base64::Engine;
        let want = login.as_ref().map(|l| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(l)
            )
        });
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test proxy");
        let addr = listener.local_addr().expect("test proxy address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let routes = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, r, st) = (seen.clone(), routes.clone(), stop.clone());
        thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (s, r, w) = (s.clone(), r.clone(), want.clone());
                thread::spawn(move || {
                    let _ = serve(conn, &s, &r, w.as_deref());
                });
            }
        });
        ConnectProxy {
            addr,
            seen,
            routes,
            stop,
            login,
        }
    }

    /// `http://127.0.0.1:PORT` (`http://USER:PASSWORD@127.0.0.1:PORT` when it wants a login),
    /// for `HTTPS_PROXY`/`HTTP_PROXY`.
    pub fn url(&self) -> String {
        match &self.login {
            Some(l) => format!("http://{l}@{}", self.addr),
            None => self.url_without_login(),
        }
    }

    /// `http://127.0.0.1:PORT`, even when it wants a login.
    pub fn url_without_login(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests for `host` (any port) go to `to`.
    pub fn route(&self, host: &str, to: SocketAddr) {
        self.routes
            .lock()
            .unwrap()
            .insert(host.to_ascii_lowercase(), to);
    }

    /// Each request seen, as `METHOD TARGET` (`CONNECT h:443`, `POST http://127.0.0.1:9/x`).
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests went through.
    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// Reads up to the end of the request head; returns the head and any bytes read past it.
fn read_head(conn: &mut TcpStream) -> io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("request head too long"));
        }
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn connect(
    host: &str,
    port: u16,
    routes: &Mutex<HashMap<String, SocketAddr>>,
) -> io::Result<TcpStream> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let routed = routes
        .lock()
        .unwrap()
        .get(&host.to_ascii_lowercase())
        .copied();
    let addr = match routed {
        Some(a) => a,
        None => (host, port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| io::Error::other("no address"))?,
    };
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
}

/// `host:port` split (a bracketed IPv6 literal kept whole).
fn host_port(authority: &str, default: u16) -> (String, u16) {
    match authority.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (h.to_string(), p.parse().unwrap_or(default)),
        _ => (authority.to_string(), default),
    }
}

fn serve(
    mut client: TcpStream,
    seen: &Mutex<Vec<String>>,
    routes: &Mutex<HashMap<String, SocketAddr>>,
    want: Option<&str>,
) -> io::Result<()> {
    let (head, rest) = read_head(&mut client)?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_string();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let version = parts.next().unwrap_or("HTTP/1.1").to_string();
    seen.lock().unwrap().push(format!("{method} {target}"));
    if let Some(want) = want {
        let given = head.split("\r\n").skip(1).find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("proxy-authorization")
                .then(|| value.trim())
        });
        if given != Some(want) {
            client.write_all(
                b"HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm=\"test\"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
    }
    let upstream = if method == "CONNECT" {
        let (host, port) = host_port(&target, 443);
        match connect(&host, port, routes) {
            Ok(u) => {
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
                u
            }
            Err(_) => {
                client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")?;
                return Ok(());
            }
        }
    } else {
        let Some(after) = target.strip_prefix("http://") else {
            client.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")?;
            return Ok(());
        };
        let (authority, path) = match after.find('/') {
            Some(i) => (&after[..i], &after[i..]),
            None => (after, "/"),
        };
        let (host, port) = host_port(authority, 80);
        let Ok(mut u) = connect(&host, port, routes) else {
            client.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")?;
            return Ok(());
        };
        let mut out = format!("{method} {path} {version}\r\n");
        for line in lines.filter(|l| !l.is_empty()) {
            let name = line
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !matches!(
                name.as_str(),
                "connection" | "proxy-connection" | "keep-alive" | "proxy-authorization"
            ) {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("connection: close\r\n\r\n");
        u.write_all(out.as_bytes())?;
        u
    };
    let mut upstream_w = upstream.try_clone()?;
    let mut client_r = client.try_clone()?;
    let up = thread::spawn(move || {
        let _ = upstream_w.write_all(&rest);
        let _ = io::copy(&mut client_r, &mut upstream_w);
        let _ = upstream_w.shutdown(Shutdown::Write);
    });
    let mut upstream_r = upstream;
    let _ = io::copy(&mut upstream_r, &mut client);
    let _ = client.shutdown(Shutdown::Both);
    let _ = up.join();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_that_wants_a_login_refuses_a_request_without_it() {
        let p = ConnectProxy::start_with_login("corp", "pw");
        assert_eq!(p.url(), format!("http://corp:pw@{}", p.addr));
        p.route("closed.test", "127.0.0.1:1".parse().unwrap());
        let ask = |auth: &str| {
            let mut c = TcpStream::connect(p.addr).unwrap();
            c.write_all(format!("CONNECT closed.test:443 HTTP/1.1\r\n{auth}\r\n").as_bytes())
                .unwrap();
            let mut answer = String::new();
            c.read_to_string(&mut answer).unwrap();
            answer
        };
        assert!(ask("").starts_with("HTTP/1.1 407 "));
        assert!(ask("Proxy-Authorization: Basic Y29ycDp4\r\n").starts_with("HTTP/1.1 407 "));
        // corp:pw gets through (to a 502: nothing listens behind it)
        assert!(ask("Proxy-Authorization: Basic Y29ycDpwdw==\r\n").starts_with("HTTP/1.1 502 "));
        assert_eq!(p.count(), 3);
    }

    #[test]
    fn forwards_absolute_form_and_counts() {
        let origin = TcpListener::bind("127.0.0.1:0").unwrap();
        let oaddr = origin.local_addr().unwrap();
        let t = thread::spawn(move || {
            let (mut c, _) = origin.accept().unwrap();
            let (head, _) = read_head(&mut c).unwrap();
            c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .unwrap();
            head
        });
        let p = ConnectProxy::start();
        p.route("origin.test", oaddr);
        let mut c = TcpStream::connect(p.addr).unwrap();
        c.write_all(b"GET http://origin.test:1/x?y HTTP/1.1\r\nHost: origin.test:1\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.ends_with("ok"), "{answer}");
        let head = t.join().unwrap();
        assert!(head.starts_with("GET /x?y HTTP/1.1\r\n"), "{head}");
        assert!(head.contains("connection: close") && !head.contains("keep-alive"));
        assert_eq!(p.seen(), ["GET http://origin.test:1/x?y"]);
        p.route("closed.test", "127.0.0.1:1".parse().unwrap());
        let mut c = TcpStream::connect(p.addr).unwrap();
        c.write_all(b"CONNECT closed.test:443 HTTP/1.1\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        c.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 502"), "{answer}");
        assert_eq!(p.count(), 2);
    }
}
