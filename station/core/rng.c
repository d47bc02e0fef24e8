/*
 * Seedable RNG (qst_core.h): xoshiro256** (Blackman & Vigna) with the state
 * expanded from a 64-bit seed by splitmix64, so a seed reproduces the same
 * simulated session on every machine.
 */
#include <math.h>

#include "qst_core.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

void qst_rng_seed(struct qst_rng *rng, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		rng->s[i] = splitmix64(&x);
}

uint64_t qst_rng_next(struct qst_rng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double qst_rng_uniform(struct qst_rng *rng)
{
	/* Top 53 bits: every double in [0, 1) on a 2^-53 grid. */
	return (double)(qst_rng_next(rng) >> 11) * 0x1.0p-53;
}

double qst_rng_normal(struct qst_rng *rng, double mean, double sd)
{
	/*
	 * Marsaglia polar method. The spare value is deliberately discarded:
	 * keeping it would need state outside struct qst_rng, and a stream
	 * that depends only on s[] is easier to reproduce.
	 */
	double u, v, q;
	do {
		u = 2.0 * qst_rng_uniform(rng) - 1.0;
		v = 2.0 * qst_rng_uniform(rng) - 1.0;
		q = u * u + v * v;
	} while (q >= 1.0 || q == 0.0);
	return mean + sd * u * sqrt(-2.0 * log(q) / q);
}
