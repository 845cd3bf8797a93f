//! Servers the test scripts: they answer as an original daemon would, or
//! misbehave on purpose, on loopback, until dropped.

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

/// A scripted server on 127.0.0.1.
#[derive(Debug)]
pub struct FakeServer {
    /// Where it listens.
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    udp: bool,
}

impl FakeServer {
    /// A TCP server that hands each connection to `serve` on a thread of its own.
    pub fn tcp(serve: impl Fn(TcpStream) + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a fake TCP server");
        let addr = listener.local_addr().expect("its address");
        let stop = Arc::new(AtomicBool::new(false));
        let (serve, flag) = (Arc::new(serve), Arc::clone(&stop));
        thread::spawn(move || {
            for conn in listener.incoming() {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    let serve = Arc::clone(&serve);
                    thread::spawn(move || serve(conn));
                }
            }
        });
        FakeServer {
            addr,
            stop,
            udp: false,
        }
    }

    /// A TCP server that writes `reply` and closes, as the original does.
    pub fn line(reply: &[u8]) -> FakeServer {
        let reply = reply.to_vec();
        FakeServer::tcp(move |mut conn| {
            let _ = conn.write_all(&reply);
        })
    }

    /// A UDP server that hands each request and its sender to `answer`.
    pub fn udp(answer: impl Fn(&UdpSocket, &[u8], SocketAddr) + Send + 'static) -> FakeServer {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a fake UDP server");
        let addr = socket.local_addr().expect("its address");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("a read timeout");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while !flag.load(Ordering::SeqCst) {
                if let Ok((n, peer)) = socket.recv_from(&mut buf) {
                    answer(&socket, &buf[..n], peer);
                }
            }
        });
        FakeServer {
            addr,
            stop,
            udp: true,
        }
    }

    /// Its address as a `ruptime` host argument.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if !self.udp {
            // Wakes the accept loop so that it sees the flag.
            let _ = TcpStream::connect(self.addr);
        }
    }
}
