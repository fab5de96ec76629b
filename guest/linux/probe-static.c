/* guest/linux/meson.build links this with each /init compiler at configure
 * time: an architecture whose compiler cannot link -static is skipped. */
#include <unistd.h>

int main(void)
{
    return (int)getpid() < 0;
}
