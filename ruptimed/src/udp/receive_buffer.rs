//! The datagram socket's receive buffer, where requests that come in a
//! burst (a fleet asked at once) wait for the daemon: the kernel's default
//! (208 KiB, about 300 small datagrams on loopback) overflows, and a request
//! dropped there costs its client a resend.

use nix::sys::socket::{getsockopt, setsockopt, sockopt};
use socket2::Socket;

/// The size asked for: 4 MiB, thousands of requests, bounded so that a
/// daemon cannot pin much memory however it is flooded.
pub(crate) const ASKED: usize = 4 << 20;

/// Asks for a buffer of [`ASKED`] bytes unless the socket has one as large
/// (systemd's `ReceiveBuffer=`): past `net.core.rmem_max` when the process
/// may (`CAP_NET_ADMIN`), else up to it. The size granted, as the kernel
/// reports it (twice the size set, its bookkeeping included).
///
/// # Errors
/// The socket option cannot be read or set.
pub(crate) fn enlarge(socket: &Socket) -> nix::Result<usize> {
    let now = getsockopt(socket, sockopt::RcvBuf)?;
    if now >= ASKED * 2 {
        return Ok(now);
    }
    if setsockopt(socket, sockopt::RcvBufForce, &ASKED).is_err() {
        setsockopt(socket, sockopt::RcvBuf, &ASKED)?;
    }
    getsockopt(socket, sockopt::RcvBuf)
}

/// The log line telling what `granted` (from [`enlarge`]) came to.
pub(crate) fn told(granted: usize) -> String {
    let kib = granted / 2 / 1024;
    if granted >= ASKED * 2 {
        format!("a receive buffer of {kib} KiB")
    } else {
        format!(
            "a receive buffer of {kib} KiB ({} KiB asked; net.core.rmem_max allows no more)",
            ASKED / 1024
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use socket2::{Domain, Type};

    #[test]
    fn a_socket_gets_a_larger_buffer_or_the_most_allowed() {
        let socket = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let before = getsockopt(&socket, sockopt::RcvBuf).unwrap();
        let granted = enlarge(&socket).unwrap();
        assert!(granted >= before, "{granted} < {before}");
        assert_eq!(granted, getsockopt(&socket, sockopt::RcvBuf).unwrap());
        assert_eq!(
            enlarge(&socket).unwrap(),
            granted,
            "asking again changes nothing"
        );
        assert_eq!(told(ASKED * 2), "a receive buffer of 4096 KiB");
        assert_eq!(
            told(425_984),
            "a receive buffer of 208 KiB (4096 KiB asked; net.core.rmem_max allows no more)"
        );
    }
}
