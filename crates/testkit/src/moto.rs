//! A moto server (S3, Glue, STS) on a free loopback port for one test, stopped on drop.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running moto server (single-threaded, see [`Moto::start`]) on 127.0.0.1; its log goes to a
/// temporary file.
pub struct Moto {
    child: Child,
    port: u16,
    log: tempfile::NamedTempFile,
}

impl Moto {
    /// Starts moto and waits (up to 60 s) until it answers HTTP.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("find a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("moto log file");
        // moto's own `moto_server` is threaded, and its S3 checks `If-Match` and then writes in
        // two steps, so two conditional puts can both pass (S3 itself is atomic here). One
        // thread serves one request at a time, which makes conditional writes atomic as in S3.
        const SERVE: &str = "import os, sys\n\
from werkzeug.serving import run_simple\n\
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app\n\
os.environ.setdefault('MOTO_PORT', sys.argv[2])\n\
run_simple(sys.argv[1], int(sys.argv[2]), DomainDispatcherApplication(create_backend_app), threaded=False, request_handler=MotoRequestHandler)\n";
        let child = Command::new(crate::tool("python"))
            .args(["-c", SERVE, "127.0.0.1", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.reopen().expect("moto log")))
            .stderr(Stdio::from(log.reopen().expect("moto log")))
            .spawn()
            .expect("start moto_server");
        let mut moto = Moto { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !moto.answers() {
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!(
                    "moto_server exited ({status}) before answering:\n{}",
                    moto.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60 s:\n{}",
                moto.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        moto
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What moto logged so far (one line per request).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn answers(&self) -> bool {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        if s.write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .is_err()
        {
            return false;
        }
        let mut head = [0u8; 5];
        s.read_exact(&mut head).is_ok() && &head == b"HTTP/"
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
