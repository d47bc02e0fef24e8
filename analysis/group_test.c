/*
 * Group comparison against the reference, Magerl 2010 "method B"
 * (qst-domain.md §3.9), and the Student's t tail it needs.
 *
 * The t tail is the regularized incomplete beta function:
 * P(|T| ≥ |t|) = I_x(df/2, 1/2) with x = df / (df + t²) (DLMF 8.17.5 via
 * the t distribution's CDF). I_x(a, b) is evaluated from its continued
 * fraction (DLMF 8.17.22) with the modified Lentz algorithm (Lentz 1976;
 * Thompson & Barnett 1986), using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a)
 * (DLMF 8.17.4) where the fraction converges slowly.
 */
#include <limits.h>
#include <math.h>

#include "qst_report.h"

#define LOG_PREFIX "group: "

enum { CF_MAX_TERMS = 500 };
#define CF_EPS 1e-15
#define CF_TINY 1e-300

/* The continued fraction of DLMF 8.17.22, without the prefactor. */
static double betai_fraction(double a, double b, double x)
{
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < CF_TINY)
		d = CF_TINY;
	d = 1.0 / d;
	double f = d;

	for (int m = 1; m <= CF_MAX_TERMS; m++) {
		/* Even step d_2m, then odd step d_2m+1. */
		for (int odd = 0; odd < 2; odd++) {
			double coef = odd
				? -(a + m) * (a + b + m) * x /
					  ((a + 2 * m) * (a + 2 * m + 1))
				: m * (b - m) * x /
					  ((a + 2 * m - 1) * (a + 2 * m));
			d = 1.0 + coef * d;
			if (fabs(d) < CF_TINY)
				d = CF_TINY;
			c = 1.0 + coef / c;
			if (fabs(c) < CF_TINY)
				c = CF_TINY;
			d = 1.0 / d;
			double delta = c * d;
			f *= delta;
			if (odd && fabs(delta - 1.0) < CF_EPS)
				return f;
		}
	}
	qst_warn("incomplete beta: no convergence for a=%g b=%g x=%g", a, b,
		 x);
	return f;
}

double qst_betai(double a, double b, double x)
{
	if (!(a > 0) || !(b > 0) || !(x >= 0) || !(x <= 1) || !isfinite(a) ||
	    !isfinite(b))
		return NAN;
	if (x == 0.0 || x == 1.0)
		return x;
	/* x^a (1−x)^b / (a B(a, b)), in logs to stay in range. */
	double log_front = a * log(x) + b * log1p(-x) + lgamma(a + b) -
			   lgamma(a) - lgamma(b);
	/* The fraction converges fast for x < (a + 1)/(a + b + 2). */
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(log_front) * betai_fraction(a, b, x) / a;
	return 1.0 - exp(log_front) * betai_fraction(b, a, 1.0 - x) / b;
}

double qst_t_two_sided_p(double t, double df)
{
	if (isnan(t) || !(df > 0) || !isfinite(df))
		return NAN;
	if (isinf(t))
		return 0.0;
	return qst_betai(df / 2.0, 0.5, df / (df + t * t));
}

int qst_group_t_stats(double mean_z, double sd_z, size_t n, double *t,
		      int *df, double *p)
{
	if (!t || !df || !p || n < 2 || n > (size_t)INT_MAX / 2 ||
	    !isfinite(mean_z) ||
	    !isfinite(sd_z) || sd_z < 0)
		return QST_ERR_ARG;
	/* The reference enters as a group of the same n with SD 1 (§3.9). */
	double dn = (double)n;
	*t = mean_z / sqrt(sd_z * sd_z / dn + 1.0 / dn);
	*df = 2 * ((int)n - 1);
	*p = qst_t_two_sided_p(*t, *df);
	return QST_OK;
}

int qst_group_t(const double *z, size_t n, double *t, int *df, double *p)
{
	if (!z || n < 2 || n > (size_t)INT_MAX / 2)
		return QST_ERR_ARG;
	double sum = 0.0;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(z[i]))
			return QST_ERR_ARG;
		sum += z[i];
	}
	double mean = sum / (double)n, ss = 0.0;
	/* Two passes: the sum of squared deviations does not cancel. */
	for (size_t i = 0; i < n; i++)
		ss += (z[i] - mean) * (z[i] - mean);
	return qst_group_t_stats(mean, sqrt(ss / (double)(n - 1)), n, t, df,
				 p);
}
